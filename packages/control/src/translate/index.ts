import type { ResourceKind } from '@trellis/envoy-api';
import { generateClusters } from './clusters.js';
import { generateEndpoints } from './endpoints.js';
import { generateListeners } from './listeners.js';
import { generateRoutes } from './routes.js';
import type { GenerateResources, NamedResource, TranslateInput } from './types.js';

const GENERATORS: Record<ResourceKind, (input: TranslateInput, names: readonly string[] | null) => NamedResource[]> = {
  cluster: generateClusters,
  endpoint: generateEndpoints,
  listener: generateListeners,
  route: generateRoutes,
};

/**
 * Translation: model + registry + proxy identity in, Envoy v3 resources out. Pure: no I/O, no state.
 * Config reaching here is validated; should an object still defeat translation, the error stays with
 * that request's resources instead of breaking the proxy's stream.
 */
export const generateResources: GenerateResources = (input, kind, names) => {
  const generate = GENERATORS[kind];
  if (!generate) return [];
  try {
    return generate(input, names);
  } catch (err) {
    console.error(`trellis: translating ${kind} for ${input.proxy.id} failed: ${(err as Error)?.stack ?? err}`);
    return [];
  }
};

export type { GenerateResources, NamedResource, TranslateInput } from './types.js';
export { generateClusters, clusterSpecs, outboundCluster, inboundCluster } from './clusters.js';
export { generateEndpoints } from './endpoints.js';
export { clusterLoadAssignment, locality } from './load-assignment.js';
export { generateListeners, httpConnectionManager, sidecarListeners, apiListener } from './listeners.js';
export { generateRoutes, outboundRouteConfiguration, inboundRouteConfiguration, namedRouteConfiguration, serviceRoutes, virtualServiceRoutes } from './routes.js';
export { resolveNamedTarget, inboundPorts } from './targets.js';
export { destinationRuleFor, effectivePolicy } from './destination-rules.js';
export { virtualServiceFor, httpRoutesOf } from './virtual-services.js';
export { parseDuration, percentToFraction } from './values.js';
export * from './names.js';
export * from './gateway/index.js';
