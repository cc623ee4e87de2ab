/**
 * VirtualService delegation, one level, as Istio's mergeVirtualServicesIfNeeded / mergeHTTPRoutes do it:
 * a root route with `delegate` is replaced, in place, by the delegate VirtualService's routes, each merged
 * with the root route. A delegate route whose matches contradict the root's can never be reached and is
 * skipped; a delegate that is missing, has hosts (so is no delegate) or isn't exported to the root's
 * namespace drops the root route. Pure: translation and analysis share it.
 */
import type { Destination, HTTPMatchRequest, HTTPRoute, StringMatch } from './istio-types.js';
import type { VirtualService } from './objects.js';
import { isExportedTo } from './visibility.js';

/** A route of a VirtualService after delegation. */
export interface ExpandedRoute {
  http: HTTPRoute;
  /** For a merged route: the delegate VirtualService and the index of the route in it. */
  from?: { vs: VirtualService; index: number };
}

export type DelegateProblemKind = 'missing' | 'has-hosts' | 'not-exported';

/** Why (part of) a root route was dropped. */
export type DelegateProblem =
  | { kind: DelegateProblemKind; rootIndex: number; key: string }
  /** The delegate route `delegateIndex` contradicts every match of the root route: skipped. */
  | { kind: 'conflict'; rootIndex: number; key: string; delegate: VirtualService; delegateIndex: number };

export interface Expansion {
  routes: ExpandedRoute[];
  problems: DelegateProblem[];
}

/** `namespace/name`, how delegates are looked up. */
export const vsKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** `namespace/name` a root route delegates to; the namespace defaults to the root's. */
export function delegateKey(route: HTTPRoute, rootNamespace: string): string | undefined {
  const d = route.delegate;
  return d ? vsKey(d.namespace || rootNamespace, d.name ?? '') : undefined;
}

/** A VirtualService is a delegate when it has no hosts. */
export const isDelegateVirtualService = (vs: VirtualService) => !vs.spec?.hosts?.length;

/**
 * The routes of `root` with every delegating route expanded (Istio's mergeVirtualServicesIfNeeded for one
 * root). `lookup` finds a VirtualService by `namespace/name`. Merged routes name destination hosts fully
 * qualified: short names resolve where they were written (the root's fields in the root's namespace, the
 * delegate's in its own), as Istio resolves short names before merging.
 */
export function expandDelegates(root: VirtualService, lookup: (key: string) => VirtualService | undefined): Expansion {
  const out: Expansion = { routes: [], problems: [] };
  const rootNs = root.metadata.namespace;
  (root.spec?.http ?? []).forEach((http, rootIndex) => {
    if (!http) return;
    const key = delegateKey(http, rootNs);
    if (key === undefined) {
      out.routes.push({ http });
      return;
    }
    const delegate = lookup(key);
    const problem: DelegateProblemKind | undefined = !delegate
      ? 'missing'
      : !isDelegateVirtualService(delegate)
        ? 'has-hosts'
        : !isExportedTo(delegate.spec?.exportTo, delegate.metadata.namespace, rootNs)
          ? 'not-exported'
          : undefined;
    if (problem || !delegate) {
      out.problems.push({ kind: problem ?? 'missing', rootIndex, key });
      return;
    }
    const parent = qualifyHosts(http, rootNs);
    (delegate.spec?.http ?? []).forEach((child, delegateIndex) => {
      // A delegate's own `delegate` is a validation error (one level only); such an object never gets here.
      if (!child || child.delegate) return;
      const merged = mergeHTTPRoute(parent, qualifyHosts(child, delegate.metadata.namespace));
      if (merged) out.routes.push({ http: merged, from: { vs: delegate, index: delegateIndex } });
      else out.problems.push({ kind: 'conflict', rootIndex, key, delegate, delegateIndex });
    });
  });
  return out;
}

// ---------------------------------------------------------------- merging one route

/** Root route fields a delegate route inherits when it doesn't set them (Istio's mergeHTTPRoute). */
const INHERITED = ['rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercent', 'mirrorPercentage', 'corsPolicy', 'mirrors', 'headers'] as const;

/**
 * A delegate route merged with its root route: matches ANDed (undefined when they contradict), the name
 * `root-child`, and the root's other fields where the delegate route leaves them out.
 */
export function mergeHTTPRoute(root: HTTPRoute, child: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatchRequests(present(root.match), present(child.match));
  if (match === undefined) return undefined;
  const out: HTTPRoute = { ...child };
  delete out.match;
  if (match.length > 0) out.match = match;
  const name = joinNames(root.name, child.name);
  if (name) out.name = name;
  for (const field of INHERITED) {
    if (out[field] === undefined && root[field] !== undefined) (out as Record<string, unknown>)[field] = root[field];
  }
  return out;
}

const present = <T>(list: readonly (T | null | undefined)[] | undefined): T[] => (list ?? []).filter((x): x is T => x != null);

/** Istio joins a root's and a delegate's names with `-`; either alone stands as is. */
function joinNames(root: string | undefined, child: string | undefined): string | undefined {
  if (!child) return root || undefined;
  return root ? `${root}-${child}` : child;
}

/**
 * Each delegate match must be compatible with at least one root match; the result is every compatible
 * (root, delegate) pair merged. Undefined (a conflict) when some delegate match fits no root match.
 */
export function mergeMatchRequests(root: readonly HTTPMatchRequest[], child: readonly HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return [...child];
  if (child.length === 0) return [...root];
  const out: HTTPMatchRequest[] = [];
  for (const leaf of child) {
    const fits = root.filter((r) => !matchesConflict(r, leaf));
    if (fits.length === 0) return undefined;
    for (const r of fits) out.push(mergeMatchRequest(r, leaf));
  }
  return out;
}

type Matches = Record<string, StringMatch> | undefined;

/** The delegate's match completed by the root's: the delegate's conditions win where both set one. */
export function mergeMatchRequest(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...leaf };
  const set = <K extends keyof HTTPMatchRequest>(k: K, v: HTTPMatchRequest[K] | undefined) => {
    if (v === undefined) delete out[k];
    else out[k] = v;
  };
  set('name', joinNames(root.name, leaf.name));
  for (const k of ['uri', 'scheme', 'method', 'authority'] as const) set(k, leaf[k] ?? root[k]);
  for (const k of ['headers', 'withoutHeaders', 'queryParams'] as const) set(k, union(root[k], leaf[k]));
  set('sourceLabels', union(root.sourceLabels, leaf.sourceLabels));
  set('port', leaf.port || root.port || undefined);
  set('sourceNamespace', leaf.sourceNamespace || root.sourceNamespace || undefined);
  set('gateways', leaf.gateways?.length ? leaf.gateways : root.gateways);
  set('statPrefix', leaf.statPrefix || root.statPrefix || undefined);
  return out;
}

function union<V>(a: Record<string, V> | undefined, b: Record<string, V> | undefined): Record<string, V> | undefined {
  if (!a || Object.keys(a).length === 0) return b && Object.keys(b).length > 0 ? { ...b } : undefined;
  return { ...a, ...b };
}

/** Istio's hasConflict: whether the delegate match can never hold together with the root match. */
export function matchesConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const k of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflict(root[k], leaf[k])) return true;
  }
  const mapConflict = (r: Matches, l: Matches) => Object.entries(l ?? {}).some(([k, v]) => stringMatchConflict(r?.[k], v));
  if (mapConflict(root.headers, leaf.headers)) return true;
  if (mapConflict(root.withoutHeaders, leaf.withoutHeaders)) return true;
  if (mapConflict(root.queryParams, leaf.queryParams)) return true;
  if (Boolean(root.ignoreUriCase) !== Boolean(leaf.ignoreUriCase)) return true;
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  // A root that names a source namespace admits only delegate matches for that same namespace.
  if (root.sourceNamespace && (leaf.sourceNamespace ?? '') !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) {
    if (root.sourceLabels && k in root.sourceLabels && root.sourceLabels[k] !== v) return true;
  }
  const rootGw = root.gateways ?? [];
  const leafGw = leaf.gateways ?? [];
  if (rootGw.length > 0 && leafGw.length > 0) {
    if (rootGw.length < leafGw.length || leafGw.some((g) => !rootGw.includes(g))) return true;
  }
  return false;
}

/**
 * Istio's stringMatchConflict: a delegate condition must narrow the root's. Regexes combine with nothing;
 * an exact root admits only the same exact; a prefix root admits longer prefixes and exacts under it.
 * Empty strings count as unset, as in Istio's proto getters.
 */
export function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf) return false;
  const r = { exact: root.exact || '', prefix: root.prefix || '', regex: root.regex || '' };
  const l = { exact: leaf.exact || '', prefix: leaf.prefix || '', regex: leaf.regex || '' };
  if (r.regex && (l.regex || l.prefix || l.exact)) return true;
  if (l.regex && (r.regex || r.prefix || r.exact)) return true;
  if (r.exact) return l.prefix !== '' || l.exact !== r.exact;
  if (r.prefix) {
    if (l.prefix) return !l.prefix.startsWith(r.prefix);
    if (l.exact) return !l.exact.startsWith(r.prefix);
  }
  return true;
}

// ---------------------------------------------------------------- short names

const CLUSTER_DOMAIN = 'svc.cluster.local';

/** Istio's ResolveShortnameToFQDN: a dotless host is a Service in `namespace`. */
function qualify(d: Destination | undefined, namespace: string): Destination | undefined {
  if (!d || typeof d.host !== 'string' || d.host === '' || d.host === '*' || d.host.includes('.') || d.host.includes(':')) return d;
  return { ...d, host: `${d.host}.${namespace}.${CLUSTER_DOMAIN}` };
}

/** The route with the short destination hosts of route, mirror and mirrors made fully qualified. */
export function qualifyHosts(http: HTTPRoute, namespace: string): HTTPRoute {
  const out: HTTPRoute = { ...http };
  if (http.route) out.route = http.route.map((rd) => (rd ? { ...rd, destination: qualify(rd.destination, namespace)! } : rd));
  if (http.mirror) out.mirror = qualify(http.mirror, namespace);
  if (http.mirrors) out.mirrors = http.mirrors.map((m) => (m ? { ...m, destination: qualify(m.destination, namespace)! } : m));
  return out;
}
