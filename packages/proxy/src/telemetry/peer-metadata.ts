import { UNKNOWN, type WorkloadInfo } from './workload-info.js';

/**
 * Istio's metadata-exchange header: the calling sidecar tells the called one who it is, so the inbound side
 * can label `source_*`. Istio sends a base64 protobuf Struct of its node metadata; Trellis sends base64 JSON
 * with the same keys (WORKLOAD_NAME, NAMESPACE, CLUSTER_ID, LABELS). Only sent to endpoints that are
 * sidecars, and taken off the request by the inbound side before the app sees it.
 */
export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';

/** Longest header value read; a longer one is ignored (the source is then "unknown"). */
const MAX_HEADER_LENGTH = 2048;
/** Longest value kept for one field. */
const MAX_FIELD_LENGTH = 253;

const LABEL_KEYS = {
  app: 'app',
  version: 'version',
  canonicalService: 'service.istio.io/canonical-name',
  canonicalRevision: 'service.istio.io/canonical-revision',
} as const;

/** The header value a sidecar with this identity sends (computed once per sidecar). */
export function encodePeerMetadata(w: WorkloadInfo): string {
  const labels: Record<string, string> = {};
  for (const [field, key] of Object.entries(LABEL_KEYS) as [keyof typeof LABEL_KEYS, string][]) {
    if (w[field] !== UNKNOWN) labels[key] = w[field];
  }
  const md = { WORKLOAD_NAME: w.workload, NAMESPACE: w.namespace, CLUSTER_ID: w.cluster, LABELS: labels };
  return Buffer.from(JSON.stringify(md)).toString('base64');
}

/** Decodes one header value; null when it isn't a well-formed peer metadata value. */
export function decodePeerMetadata(value: string): WorkloadInfo | null {
  if (value.length === 0 || value.length > MAX_HEADER_LENGTH) return null;
  let md: unknown;
  try {
    md = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof md !== 'object' || md === null || Array.isArray(md)) return null;
  const o = md as Record<string, unknown>;
  const labels = typeof o.LABELS === 'object' && o.LABELS !== null ? (o.LABELS as Record<string, unknown>) : {};
  const workload = field(o.WORKLOAD_NAME);
  const app = field(labels[LABEL_KEYS.app]);
  const version = field(labels[LABEL_KEYS.version]);
  return Object.freeze({
    workload,
    namespace: field(o.NAMESPACE),
    principal: UNKNOWN,
    app,
    version,
    canonicalService: field(labels[LABEL_KEYS.canonicalService]) !== UNKNOWN ? field(labels[LABEL_KEYS.canonicalService]) : app !== UNKNOWN ? app : workload,
    canonicalRevision: field(labels[LABEL_KEYS.canonicalRevision]) !== UNKNOWN ? field(labels[LABEL_KEYS.canonicalRevision]) : version !== UNKNOWN ? version : 'latest',
    cluster: field(o.CLUSTER_ID),
  });
}

function field(v: unknown): string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_FIELD_LENGTH ? v : UNKNOWN;
}
