/** Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation). */

const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const DNS1035_LABEL = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;

/** Namespaces, container names, port names. */
export function dns1123LabelError(s: string): string | undefined {
  if (s.length > 63) return `"${s}" must be no more than 63 characters`;
  if (!DNS1123_LABEL.test(s)) {
    return `"${s}" must be a lowercase RFC 1123 label: lower case alphanumeric characters or '-', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

/** Names of most objects (Deployment, Pod, Istio configs). */
export function dns1123SubdomainError(s: string): string | undefined {
  if (s.length > 253) return `"${s}" must be no more than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return `"${s}" must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

/** Service names. */
export function dns1035LabelError(s: string): string | undefined {
  if (s.length > 63) return `"${s}" must be no more than 63 characters`;
  if (!DNS1035_LABEL.test(s)) {
    return `"${s}" must be a lowercase RFC 1035 label: lower case alphanumeric characters or '-', starting with a letter and ending with an alphanumeric character`;
  }
  return undefined;
}

/** Named ports (containerPort names, a Service's string targetPort). */
export function ianaSvcNameError(s: string): string | undefined {
  if (s.length > 15) return `"${s}" must be no more than 15 characters`;
  if (!/^[-a-z0-9]+$/.test(s)) return `"${s}" must contain only lower case alphanumeric characters or '-'`;
  if (!/[a-z]/.test(s)) return `"${s}" must contain at least one letter`;
  if (s.includes('--')) return `"${s}" must not contain consecutive hyphens`;
  if (s.startsWith('-') || s.endsWith('-')) return `"${s}" must not begin or end with a hyphen`;
  return undefined;
}
