import { clusterSpecs, isEdsCluster, type OutboundClusterSpec } from './clusters.js';
import { clusterLoadAssignment, endpointsOf } from './load-assignment.js';
import type { NamedResource, TranslateInput } from './types.js';

/** EDS: a ClusterLoadAssignment for every EDS cluster asked for (an empty one when nothing backs it). */
export function generateEndpoints(input: TranslateInput, names: readonly string[] | null): NamedResource[] {
  const wanted = names === null ? undefined : new Set(names);
  return clusterSpecs(input)
    .filter((s): s is OutboundClusterSpec => s.kind === 'outbound' && (!wanted || wanted.has(s.name)))
    .filter((s) => isEdsCluster(input, s))
    .map((s) => ({ name: s.name, resource: clusterLoadAssignment(s.name, endpointsOf(input, s)) }));
}
