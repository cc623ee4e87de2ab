/**
 * One side of a request as Istio's standard metrics label it (`source_*` / `destination_*`). Built once per
 * peer and shared (the metrics' cells are keyed by these objects): recording a request never builds one.
 */
export interface WorkloadInfo {
  readonly workload: string;
  readonly namespace: string;
  /** `spiffe://…` with mTLS; "unknown" here (Trellis has no mTLS yet). */
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

/** Istio's value for a label it can't know. */
export const UNKNOWN = 'unknown';
/** Istio's default cluster id (CLUSTER_ID). */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

export const UNKNOWN_WORKLOAD: WorkloadInfo = Object.freeze({
  workload: UNKNOWN,
  namespace: UNKNOWN,
  principal: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  canonicalService: UNKNOWN,
  canonicalRevision: UNKNOWN,
  cluster: UNKNOWN,
});

/** Who a sidecar is, as its bootstrap identity knows it. */
export interface WorkloadIdentityInput {
  readonly workloadName: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The sidecar's own side: workload, namespace, app/version labels, Istio's canonical service and revision. */
export function workloadFromIdentity(id: WorkloadIdentityInput): WorkloadInfo {
  const l = id.labels;
  return Object.freeze({
    workload: id.workloadName || UNKNOWN,
    namespace: id.namespace || UNKNOWN,
    principal: UNKNOWN,
    app: l.app || UNKNOWN,
    version: l.version || UNKNOWN,
    canonicalService: l['service.istio.io/canonical-name'] || l['app.kubernetes.io/name'] || l.app || id.workloadName || UNKNOWN,
    canonicalRevision: l['service.istio.io/canonical-revision'] || l['app.kubernetes.io/version'] || l.version || 'latest',
    cluster: DEFAULT_CLUSTER_ID,
  });
}

/**
 * An endpoint's `istio.workload` metadata (Istio's `NAME;NAMESPACE;CANONICAL_SERVICE;CANONICAL_REVISION;CLUSTER`)
 * as the destination of an outbound request. Like Istio, app and version are the canonical name and revision.
 * Null when the value isn't in that form.
 */
export function workloadFromEndpointMetadata(value: unknown): WorkloadInfo | null {
  if (typeof value !== 'string') return null;
  const parts = value.split(';');
  if (parts.length !== 5) return null;
  const [workload, namespace, service, revision, cluster] = parts.map((p) => p || UNKNOWN) as [string, string, string, string, string];
  return Object.freeze({
    workload,
    namespace,
    principal: UNKNOWN,
    app: service,
    version: revision,
    canonicalService: service,
    canonicalRevision: revision,
    cluster,
  });
}
