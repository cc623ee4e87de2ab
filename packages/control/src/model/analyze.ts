/**
 * Checks across objects, after each passed its own validation. Only a duplicate (same Kind/ns/name) is
 * an error, on the later object, which a source then drops; dangling references are warnings, like
 * `istioctl analyze`'s IST0101 (ReferencedResourceNotFound): the object may arrive later.
 */
import type { Destination, HTTPRoute } from './istio-types.js';
import type { ConfigIssue } from './issues.js';
import { delegateKey, expandDelegates, isDelegateVirtualService } from './delegation.js';
import { objectRef, type ConfigObject, type DestinationRule, type VirtualService } from './objects.js';
import { isPassthrough } from './validate/gateway.js';
import { hostSubsetOf } from './validate/hosts.js';
import { isHTTPProtocol, parseProtocol } from './validate/ports.js';
import { formatPath, type FieldPath } from './validate/path.js';

const CLUSTER_DOMAIN = 'svc.cluster.local';

export function analyzeObjects(objects: readonly ConfigObject[]): ConfigIssue[] {
  const unique = dedupeObjects(objects);
  return [...duplicateIssues(objects), ...referenceIssues(unique), ...unservedServers(unique)];
}

/**
 * Namespaces of the gateway workloads a selector picks among the objects (Deployments' pod templates, Pods);
 * with none in the config, istio-system, where Istio's default profile (and local mode) runs the gateway.
 */
function gatewayNamespaces(objects: readonly ConfigObject[], selector: Record<string, string> | undefined): string[] {
  const matches = (labels: Record<string, string> | undefined) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  const found = new Set<string>();
  for (const o of objects) {
    if (o.kind === 'Deployment' && matches(o.spec?.template?.metadata?.labels)) found.add(o.metadata.namespace);
    if (o.kind === 'Pod' && matches(o.metadata.labels)) found.add(o.metadata.namespace);
  }
  return found.size > 0 ? [...found] : ['istio-system'];
}

/**
 * Gateway servers the Trellis gateway doesn't serve (it proxies HTTP, and HTTPS whose TLS it terminates):
 * valid Istio, so not a validation finding, but they get no listener, which the user should hear about.
 */
function unservedServers(objects: readonly ConfigObject[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const gw of objects) {
    if (gw.kind !== 'Gateway') continue;
    gw.spec.servers?.forEach((server, i) => {
      const protocol = parseProtocol(server?.port?.protocol);
      if (!server || protocol === undefined || isHTTPProtocol(protocol)) return;
      const tls = server.tls;
      const at = formatPath(['spec', 'servers', i, 'tls']);
      const warn = (path: string, message: string) =>
        issues.push({ severity: 'warning', file: gw.origin.file, doc: gw.origin.doc, object: objectRef(gw), path, message });
      if (protocol === 'HTTPS' && tls && !isPassthrough(tls) && tls.mode !== 'ISTIO_MUTUAL') {
        // The Trellis gateway serves one certificate per server, from credentialName or the two file fields.
        if (!tls.credentialName && (tls.credentialNames?.length || tls.tlsCertificates?.length)) {
          warn(at, 'credentialNames and tlsCertificates are not supported by the Trellis gateway (use credentialName, or serverCertificate and privateKey); this server gets no listener');
        }
        const namespaces = gatewayNamespaces(objects, gw.spec.selector);
        const found = objects.some((o) => o.kind === 'Secret' && o.metadata.name === tls.credentialName && namespaces.includes(o.metadata.namespace));
        if (tls.credentialName && !found) {
          warn(`${at}.credentialName`, `referenced credentialName not found: Secret "${tls.credentialName}" in ${namespaces.join(', ')} (the gateway's namespace); this server gets no listener until it exists`);
        }
        return;
      }
      const what = protocol === 'HTTPS' || protocol === 'TLS' ? `${protocol} (tls.mode ${tls?.mode ?? 'PASSTHROUGH'})` : protocol;
      warn(
        formatPath(['spec', 'servers', i, 'port', 'protocol']),
        `${what} servers are not served by the Trellis gateway (HTTP, and HTTPS in SIMPLE, MUTUAL or OPTIONAL_MUTUAL mode, are); this server gets no listener`,
      );
    });
  }
  return issues;
}

/** The objects without later duplicates of a Kind/namespace/name (the first one wins). */
export function dedupeObjects(objects: readonly ConfigObject[]): ConfigObject[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    const ref = objectRef(o);
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });
}

function duplicateIssues(objects: readonly ConfigObject[]): ConfigIssue[] {
  const first = new Map<string, ConfigObject>();
  const issues: ConfigIssue[] = [];
  for (const o of objects) {
    const ref = objectRef(o);
    const earlier = first.get(ref);
    if (!earlier) {
      first.set(ref, o);
      continue;
    }
    issues.push({
      severity: 'error',
      file: o.origin.file,
      doc: o.origin.doc,
      object: ref,
      path: 'metadata.name',
      message: `duplicate ${ref}: already defined in ${earlier.origin.file}#${earlier.origin.doc}`,
    });
  }
  return issues;
}

/** The names a host may be written as, resolved in a namespace: `name`, `name.ns`, `name.ns.svc`, full. */
export function hostCandidates(host: string, namespace: string): string[] {
  const parts = host.split('.');
  if (parts.length === 1) return [`${host}.${namespace}.${CLUSTER_DOMAIN}`];
  if (parts.length === 2) return [host, `${host}.${CLUSTER_DOMAIN}`];
  if (parts.length === 3 && parts[2] === 'svc') return [host, `${host}.cluster.local`];
  return [host];
}

class Index {
  /** FQDNs of Kubernetes Services and hosts of ServiceEntries (which may be wildcards). */
  private readonly serviceHosts = new Set<string>();
  private readonly entryHosts: string[] = [];
  readonly gateways = new Set<string>();
  readonly virtualServices = new Map<string, VirtualService>();
  readonly rules: DestinationRule[] = [];

  constructor(objects: readonly ConfigObject[]) {
    for (const o of objects) {
      const ns = o.metadata.namespace;
      if (o.kind === 'Service') this.serviceHosts.add(`${o.metadata.name}.${ns}.${CLUSTER_DOMAIN}`);
      if (o.kind === 'ServiceEntry') for (const h of o.spec.hosts ?? []) this.entryHosts.push(...hostCandidates(h, ns));
      if (o.kind === 'Gateway') this.gateways.add(`${ns}/${o.metadata.name}`);
      if (o.kind === 'VirtualService') this.virtualServices.set(`${ns}/${o.metadata.name}`, o);
      if (o.kind === 'DestinationRule') this.rules.push(o);
    }
  }

  hostExists(host: string, namespace: string): boolean {
    return hostCandidates(host, namespace).some(
      (h) => this.serviceHosts.has(h) || this.entryHosts.some((e) => hostSubsetOf(h, e)),
    );
  }

  subsetExists(host: string, subset: string, namespace: string): boolean {
    const wanted = hostCandidates(host, namespace);
    return this.rules.some((dr) => {
      const drHosts = hostCandidates(dr.spec.host, dr.metadata.namespace);
      const sameHost = wanted.some((w) => drHosts.some((d) => hostSubsetOf(w, d)));
      return sameHost && (dr.spec.subsets ?? []).some((s) => s?.name === subset);
    });
  }
}

function referenceIssues(objects: readonly ConfigObject[]): ConfigIssue[] {
  const index = new Index(objects);
  const issues: ConfigIssue[] = [];
  const delegated = new Set<string>();
  for (const vs of index.virtualServices.values()) {
    const warn = (path: FieldPath, message: string) =>
      issues.push({ severity: 'warning', file: vs.origin.file, doc: vs.origin.doc, object: objectRef(vs), path: formatPath(path), message });
    checkVirtualService(vs, index, warn, delegated);
  }
  for (const [key, vs] of index.virtualServices) {
    if ((vs.spec.hosts ?? []).length === 0 && !delegated.has(key)) {
      issues.push({
        severity: 'warning',
        file: vs.origin.file,
        doc: vs.origin.doc,
        object: objectRef(vs),
        path: 'spec.hosts',
        message: 'VirtualService has no hosts, so it only applies as a delegate, and no VirtualService delegates to it',
      });
    }
  }
  return issues;
}

type Warn = (path: FieldPath, message: string) => void;

function checkVirtualService(vs: VirtualService, index: Index, warn: Warn, delegated: Set<string>): void {
  const ns = vs.metadata.namespace;
  const spec = vs.spec;
  spec.gateways?.forEach((g, i) => checkGateway(g, ns, index, ['spec', 'gateways', i], warn));
  spec.http?.forEach((route, i) => {
    if (!route) return;
    checkHTTPRoute(route, ns, index, ['spec', 'http', i], warn);
    const key = delegateKey(route, ns);
    if (key !== undefined) delegated.add(key);
  });
  if (!isDelegateVirtualService(vs)) checkDelegates(vs, index, warn);
  for (const proto of ['tls', 'tcp'] as const) {
    spec[proto]?.forEach((route, i) =>
      route?.route?.forEach((rd, j) => checkDestination(rd?.destination, ns, index, ['spec', proto, i, 'route', j, 'destination'], warn)),
    );
  }
}

/** What delegation drops, as Istio does silently (it only logs): missing delegates and unreachable delegate routes. */
function checkDelegates(root: VirtualService, index: Index, warn: Warn): void {
  const ns = root.metadata.namespace;
  for (const p of expandDelegates(root, (key) => index.virtualServices.get(key)).problems) {
    const at: FieldPath = ['spec', 'http', p.rootIndex];
    switch (p.kind) {
      case 'missing':
        warn([...at, 'delegate'], `referenced delegate VirtualService not found: "${p.key}"; the route is dropped`);
        break;
      case 'has-hosts':
        warn([...at, 'delegate'], `VirtualService "${p.key}" has hosts, so it is not a delegate; the route is dropped`);
        break;
      case 'not-exported':
        warn([...at, 'delegate'], `delegate VirtualService "${p.key}" is not exported to namespace "${ns}"; the route is dropped`);
        break;
      case 'conflict': {
        const child = p.delegate.spec.http?.[p.delegateIndex];
        const name = child?.name ? `"${child.name}"` : `#${p.delegateIndex}`;
        warn([...at, 'match'], `route ${name} of delegate VirtualService "${p.key}" has matches that conflict with this route's, so it is never used`);
        break;
      }
    }
  }
}

function checkHTTPRoute(route: HTTPRoute, ns: string, index: Index, at: FieldPath, warn: Warn): void {
  route.route?.forEach((rd, j) => checkDestination(rd?.destination, ns, index, [...at, 'route', j, 'destination'], warn));
  checkDestination(route.mirror, ns, index, [...at, 'mirror'], warn);
  route.mirrors?.forEach((m, j) => checkDestination(m?.destination, ns, index, [...at, 'mirrors', j, 'destination'], warn));
  route.match?.forEach((m, j) => m?.gateways?.forEach((g, k) => checkGateway(g, ns, index, [...at, 'match', j, 'gateways', k], warn)));
}

function checkDestination(d: Destination | undefined, ns: string, index: Index, at: FieldPath, warn: Warn): void {
  if (!d?.host || d.host.includes('*')) return;
  if (!index.hostExists(d.host, ns)) {
    warn([...at, 'host'], `referenced host not found: "${d.host}"`);
    return;
  }
  if (d.subset && !index.subsetExists(d.host, d.subset, ns)) {
    warn([...at, 'subset'], `referenced host+subset in destinationrule not found: "${d.host}+${d.subset}"`);
  }
}

function checkGateway(name: string, ns: string, index: Index, at: FieldPath, warn: Warn): void {
  if (!name || name === 'mesh') return;
  // `name` (same namespace), `namespace/name`, or the legacy `name.namespace...`.
  const key = name.includes('/') ? name : name.includes('.') ? `${name.split('.')[1]}/${name.split('.')[0]}` : `${ns}/${name}`;
  if (!index.gateways.has(key)) warn(at, `referenced gateway not found: "${name}"`);
}
