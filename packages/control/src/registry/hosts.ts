import type { MeshService } from './types.js';

export const CLUSTER_DOMAIN = 'cluster.local';

/** `name.ns.svc.cluster.local`, the hostname of a Kubernetes Service. */
export function kubeServiceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Splits `host:port` (a trailing decimal port only); the host is lower-cased, as DNS names compare. */
export function splitHostPort(hostPort: string): { host: string; port?: number } {
  const m = /^(.*):(\d+)$/.exec(hostPort);
  if (m && !m[1]!.includes(':')) return { host: m[1]!.toLowerCase(), port: Number(m[2]) };
  return { host: hostPort.toLowerCase() };
}

/**
 * Candidate FQDNs for a short Kubernetes host written relative to `namespace`: `name` -> name.ns.svc...,
 * `name.ns` and `name.ns.svc` completed to the cluster domain. The host itself is always tried first.
 */
export function expandKubeHost(host: string, namespace: string): string[] {
  const out = [host];
  const dots = host.split('.').length - 1;
  if (dots === 0) out.push(kubeServiceFqdn(host, namespace));
  else if (dots === 1) out.push(`${host}.svc.${CLUSTER_DOMAIN}`);
  else if (host.endsWith('.svc')) out.push(`${host}.${CLUSTER_DOMAIN}`);
  return out;
}

export function isKubeService(s: MeshService): boolean {
  return s.hostname === kubeServiceFqdn(s.name, s.namespace);
}

/**
 * Every name a client in `clientNamespace` may use for the service, longest first: the FQDN,
 * `name.ns.svc`, `name.ns`, and the bare `name` only from the service's own namespace (elsewhere it means
 * another service). ServiceEntry hosts have just the one form.
 */
export function hostForms(s: MeshService, clientNamespace: string): string[] {
  if (!isKubeService(s)) return [s.hostname];
  const forms = [s.hostname, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
  if (clientNamespace === s.namespace) forms.push(s.name);
  return forms;
}

/** Istio's host matching: exact, or a `*.suffix` wildcard matching any name under the suffix (`*` matches all). */
export function wildcardMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.startsWith('*.')) return pattern === host;
  return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
}
