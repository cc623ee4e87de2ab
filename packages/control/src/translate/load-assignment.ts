import { jsonToStruct } from '@trellis/envoy-api';
import type { EnvoyJson } from '@trellis/envoy-api';
import type { Endpoint } from '../registry/types.js';
import type { OutboundClusterSpec } from './clusters.js';
import { TRELLIS_METADATA_KEY } from './names.js';
import { endpointIstioMetadata, ISTIO_METADATA_KEY } from './telemetry-metadata.js';
import type { TranslateInput } from './types.js';

/** envoy.config.core.v3.Locality from Istio's `region/zone/subzone` ("" for parts not known). */
export function locality(text: string): { region: string; zone: string; sub_zone: string } {
  const [region = '', zone = '', sub_zone = ''] = (text ?? '').split('/');
  return { region, zone, sub_zone };
}

function lbEndpoint(ep: Endpoint): EnvoyJson {
  const out: EnvoyJson = {
    endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port } } },
    health_status: 'HEALTHY',
    load_balancing_weight: { value: Math.max(1, ep.workload.weight) },
  };
  // Istio's workload metadata names the destination in the caller's telemetry. A DNS host (no workload
  // behind it) gets none.
  const filterMetadata: Record<string, unknown> = {};
  if (!ep.workload.hostOnly) filterMetadata[ISTIO_METADATA_KEY] = endpointIstioMetadata(ep.workload);
  // The calling sidecar turns this into x-trellis-inbound-port, so the inbound side knows the app port.
  if (ep.workload.sidecar) filterMetadata[TRELLIS_METADATA_KEY] = jsonToStruct({ target_port: ep.targetPort });
  if (Object.keys(filterMetadata).length > 0) out.metadata = { filter_metadata: filterMetadata };
  return out;
}

/**
 * Endpoints grouped by locality, each locality weighted by the sum of its endpoints' weights (gRPC drops
 * localities without a weight).
 */
export function localityEndpoints(endpoints: readonly Endpoint[]): EnvoyJson[] {
  const groups = new Map<string, Endpoint[]>();
  for (const ep of endpoints) {
    const key = ep.workload.locality ?? '';
    groups.set(key, [...(groups.get(key) ?? []), ep]);
  }
  return [...groups].map(([key, eps]) => ({
    locality: locality(key),
    lb_endpoints: eps.map(lbEndpoint),
    load_balancing_weight: { value: eps.reduce((sum, ep) => sum + Math.max(1, ep.workload.weight), 0) },
  }));
}

export function clusterLoadAssignment(clusterName: string, endpoints: readonly Endpoint[]): EnvoyJson {
  return { cluster_name: clusterName, endpoints: localityEndpoints(endpoints) };
}

/** The endpoints of a cluster's service port, narrowed to its subset's labels. */
export function endpointsOf(input: TranslateInput, spec: OutboundClusterSpec): Endpoint[] {
  const labels = spec.subset ? (spec.subset.labels ?? {}) : undefined;
  return input.registry.endpoints(spec.service, spec.port.port, labels);
}
