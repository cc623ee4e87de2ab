/**
 * Checks across objects, after each passed its own validation. Only a duplicate (same Kind/ns/name) is
 * an error, on the later object, which a source then drops; dangling references are warnings, like
 * `istioctl analyze`'s IST0101 (ReferencedResourceNotFound): the object may arrive later.
 */
import type { Destination, HTTPRoute } from './istio-types.js';
import type { ConfigIssue } from './issues.js';
import { delegateKey, expandDelegates, isDelegateVirtualService } from './delegation.js';
import { objectRef, type ConfigObject, type DestinationRule, type VirtualService } from './objects.js';
import { hostSubsetOf } from './validate/hosts.js';
import { formatPath, type FieldPath } from './validate/path.js';

const CLUSTER_DOMAIN = 'svc.cluster.local';

export function analyzeObjects(objects: readonly ConfigObject[]): ConfigIssue[] {
  const unique = dedupeObjects(objects);
  return [...duplicateIssues(objects), ...referenceIssues(unique)];
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
