import { expandDelegates, vsKey, type ExpandedRoute } from '../model/delegation.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { VirtualService } from '../model/objects.js';
import { isExportedTo } from '../model/visibility.js';
import { wildcardMatches } from '../registry/hosts.js';
import type { MeshService } from '../registry/types.js';
import type { TranslateInput } from './types.js';

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

// ---------------------------------------------------------------- delegation

/** Per config: VirtualServices by `namespace/name`, and each root's routes after delegation. */
interface DelegationCache {
  byKey: Map<string, VirtualService>;
  expanded: Map<VirtualService, readonly ExpandedRoute[]>;
}

/** Merging depends on config only, not on the proxy: done once per MeshConfig, as Istio does per push. */
const caches = new WeakMap<MeshConfig, DelegationCache>();

function cacheFor(config: MeshConfig): DelegationCache {
  let cache = caches.get(config);
  if (!cache) {
    const byKey = new Map<string, VirtualService>();
    for (const vs of config.virtualServices) {
      const key = vsKey(vs.metadata.namespace, vs.metadata.name);
      if (!byKey.has(key)) byKey.set(key, vs);
    }
    cache = { byKey, expanded: new Map() };
    caches.set(config, cache);
  }
  return cache;
}

/**
 * The VirtualService's HTTP routes in order, each delegating route replaced by its delegate's routes merged
 * with it (one level, Istio's mergeVirtualServicesIfNeeded). What delegation drops is reported by
 * analyzeObjects; here it simply isn't routed.
 */
export function httpRoutesOf(config: MeshConfig, vs: VirtualService): readonly ExpandedRoute[] {
  const cache = cacheFor(config);
  let routes = cache.expanded.get(vs);
  if (!routes) {
    routes = expandDelegates(vs, (key) => cache.byKey.get(key)).routes;
    cache.expanded.set(vs, routes);
  }
  return routes;
}
