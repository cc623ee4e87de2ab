import { jsonToStruct, type EnvoyJson, type Struct } from '@trellis/envoy-api';
import type { Labels } from '../model/istio-types.js';
import { labelsMatch } from '../registry/labels.js';
import type { MeshService, Workload } from '../registry/types.js';
import type { TranslateInput } from './types.js';

/**
 * Istio's metadata for telemetry, under Istio's `istio` filter_metadata key, so a sidecar's standard metrics
 * can name the destination of an outbound request without asking it:
 * - endpoints: `istio.workload` = `NAME;NAMESPACE;CANONICAL_SERVICE;CANONICAL_REVISION;CLUSTER_ID` (Istio's
 *   AppendLbEndpointMetadata format);
 * - clusters: `istio.services` = `[{ host, name, namespace }]`, the services the cluster sends to.
 */
export const ISTIO_METADATA_KEY = 'istio';
/** Istio's default cluster id (`CLUSTER_ID`), the `source_cluster` / `destination_cluster` label. */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** Istio's canonical service: the canonical-name label, else app.kubernetes.io/name, else app, else the workload name. */
export function canonicalService(labels: Labels, workloadName: string): string {
  return labels['service.istio.io/canonical-name'] || labels['app.kubernetes.io/name'] || labels.app || workloadName;
}

/** Istio's canonical revision: the canonical-revision label, else app.kubernetes.io/version, else version, else `latest`. */
export function canonicalRevision(labels: Labels): string {
  return labels['service.istio.io/canonical-revision'] || labels['app.kubernetes.io/version'] || labels.version || 'latest';
}

/** `istio.workload` of one endpoint. Semicolons can't occur in any part (Kubernetes names and label values exclude them). */
export function workloadMetadataValue(w: Workload): string {
  const labels = w.labels ?? {};
  return [w.workloadName, w.namespace, canonicalService(labels, w.workloadName), canonicalRevision(labels), DEFAULT_CLUSTER_ID].join(';');
}

/** The `istio` filter_metadata Struct of an endpoint. */
export function endpointIstioMetadata(w: Workload): Struct {
  return jsonToStruct({ workload: workloadMetadataValue(w) });
}

/** The `metadata` field of a cluster sending to `services`. */
export function clusterIstioMetadata(services: readonly MeshService[]): EnvoyJson {
  const list = services.map((s) => ({ host: s.hostname, name: s.name, namespace: s.namespace }));
  return { filter_metadata: { [ISTIO_METADATA_KEY]: jsonToStruct({ services: list }) } };
}

/**
 * The services an inbound cluster (`inbound|PORT||`) serves: those in the proxy's namespace that select it
 * and target that app port.
 */
export function inboundServices(input: TranslateInput, port: number): MeshService[] {
  const { proxy, registry } = input;
  return registry.services.filter((service) => {
    if (!service.selector || service.namespace !== proxy.namespace || !labelsMatch(proxy.labels, service.selector)) return false;
    return service.ports.some((p) => {
      const target = typeof p.targetPort === 'number' ? p.targetPort : proxy.ports.find((c) => c.name === p.targetPort)?.containerPort;
      return target === port;
    });
  });
}
