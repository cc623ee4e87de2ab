import type { HTTPMatchRequest, HTTPRoute } from '../model/istio-types.js';
import type { VirtualService } from '../model/objects.js';
import { wildcardMatches } from '../registry/hosts.js';
import type { MeshService } from '../registry/types.js';
import { isExportedTo } from './destination-rules.js';
import { mergeMatch } from './route-match.js';
import type { TranslateInput } from './types.js';

/** An HTTP route ready to translate: its matches (OR), and the namespace its short names resolve in. */
export interface FlatRoute {
  http: HTTPRoute;
  /** Empty: match everything. */
  matches: HTTPMatchRequest[];
  namespace: string;
  vs: VirtualService;
}

/** A VirtualService binds to sidecars when it names no gateways, or names `mesh` among them. */
function bindsToMesh(vs: VirtualService): boolean {
  const gateways = vs.spec?.gateways;
  return !gateways || gateways.length === 0 || gateways.includes('mesh');
}

/** How well a VirtualService host names the service: exact beats wildcard, longer wildcard beats shorter. */
function hostScore(input: TranslateInput, vs: VirtualService, service: MeshService): number {
  let best = 0;
  for (const raw of vs.spec?.hosts ?? []) {
    if (typeof raw !== 'string' || raw === '') continue;
    const host = raw.toLowerCase();
    if (host.startsWith('*')) {
      if (wildcardMatches(host, service.hostname)) best = Math.max(best, host.length);
    } else if (host === service.hostname || input.registry.lookup(host, vs.metadata.namespace) === service) {
      return Number.MAX_SAFE_INTEGER;
    }
  }
  return best;
}

/**
 * The VirtualService that routes a service for this proxy. Sidecars use one per host, as Istio does: the
 * most specific host match, the first in config order among equals.
 */
export function virtualServiceFor(input: TranslateInput, service: MeshService): VirtualService | undefined {
  let best: { vs: VirtualService; score: number } | undefined;
  for (const vs of input.config.virtualServices) {
    if (!vs.spec?.hosts?.length || !bindsToMesh(vs)) continue;
    if (!isExportedTo(vs.spec.exportTo, vs.metadata.namespace, input.proxy.namespace)) continue;
    const score = hostScore(input, vs, service);
    if (score > 0 && (!best || score > best.score)) best = { vs, score };
  }
  return best?.vs;
}

/** A delegate: a VirtualService without hosts, named by the delegating route (namespace defaults to its own). */
function findDelegate(input: TranslateInput, name: string, namespace: string): VirtualService | undefined {
  return input.config.virtualServices.find(
    (vs) => vs.metadata.name === name && vs.metadata.namespace === namespace && !vs.spec?.hosts?.length,
  );
}

const matchesOf = (h: HTTPRoute) => (h.match ?? []).filter((m): m is HTTPMatchRequest => !!m && typeof m === 'object');

/**
 * The VirtualService's HTTP routes in order, delegate routes expanded in place (one level, as Istio
 * allows): each delegate route's matches are ANDed with the delegating route's. Matches that contradict
 * each other drop out; a delegate route left with no match at all is dropped.
 */
export function flattenRoutes(input: TranslateInput, vs: VirtualService): FlatRoute[] {
  const out: FlatRoute[] = [];
  for (const http of vs.spec?.http ?? []) {
    if (!http || typeof http !== 'object') continue;
    if (!http.delegate) {
      out.push({ http, matches: matchesOf(http), namespace: vs.metadata.namespace, vs });
      continue;
    }
    const ns = http.delegate.namespace || vs.metadata.namespace;
    const delegate = findDelegate(input, http.delegate.name, ns);
    for (const child of delegate?.spec?.http ?? []) {
      if (!child || typeof child !== 'object' || child.delegate) continue;
      const merged = crossMatches(matchesOf(http), matchesOf(child));
      if (merged === undefined) continue;
      out.push({ http: child, matches: merged, namespace: ns, vs: delegate! });
    }
  }
  return out;
}

/** Every root match ANDed with every child match; undefined when none of the pairs can match. */
function crossMatches(root: HTTPMatchRequest[], child: HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return child;
  if (child.length === 0) return root;
  const out = root.flatMap((r) => child.map((c) => mergeMatch(r, c)).filter((m): m is HTTPMatchRequest => m !== undefined));
  return out.length > 0 ? out : undefined;
}
