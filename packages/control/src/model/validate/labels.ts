/** Label keys and values, as Kubernetes and Istio's labels.Instance.Validate check them. */
import type { Reporter } from './reporter.js';
import type { FieldPath } from './path.js';

const NAME = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? ['', key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (slash >= 0 && (prefix.length > 253 || !PREFIX.test(prefix))) return `invalid label key "${key}": the prefix must be a DNS subdomain`;
  if (name.length > 63 || !NAME.test(name)) {
    return `invalid label key "${key}": the name must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `invalid label value "${value}": must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

export function validateLabels(labels: Readonly<Record<string, string>> | undefined, path: FieldPath, r: Reporter): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const err = labelKeyError(key) ?? labelValueError(value);
    if (err) r.error([...path, key], err);
  }
}

/** Workload selectors (DestinationRule, ServiceEntry): no empty keys, no wildcards; empty selects everything. */
export function validateWorkloadSelector(labels: Readonly<Record<string, string>> | undefined, path: FieldPath, r: Reporter, what: string): void {
  if (labels === undefined) return;
  for (const [key, value] of Object.entries(labels)) {
    if (key === '') r.error([...path, key], `empty key is not supported in selector: "${key}=${value}"`);
    if (key.includes('*') || value.includes('*')) r.error([...path, key], `wildcard is not supported in selector: "${key}=${value}"`);
  }
  if (Object.keys(labels).length === 0) r.warn(path, `workload selector specified without labels, ${what}`);
}
