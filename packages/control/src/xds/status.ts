import type { ResourceKind } from '@trellis/envoy-api';
import type { ProxyIdentity } from '../registry/proxy-identity.js';

/**
 * What the control plane knows of one proxy's config, per xDS type, as `/debug/syncz` serves it and
 * `trellis proxy-status` prints it. Times are ISO-8601 strings so the JSON round-trips unchanged.
 */

/** istioctl proxy-status' words: the proxy has ACKed what we sent, hasn't yet (or NACKed it), or got nothing. */
export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT';

export interface NackStatus {
  /** version_info of the response the proxy rejected. */
  version: string;
  nonce: string;
  /** error_detail.message from the proxy, verbatim. */
  message: string;
  at: string;
}

export interface TypeStatus {
  typeUrl: string;
  /** Resource names the proxy subscribed to; '*' for a wildcard (LDS/CDS) subscription; [] when not subscribed. */
  subscribed: readonly string[] | '*';
  sentVersion?: string;
  sentNonce?: string;
  sentAt?: string;
  /** How many resources the last response carried. */
  sentResources?: number;
  ackedVersion?: string;
  ackedNonce?: string;
  ackedAt?: string;
  /** The last rejection; cleared when a later response is ACKed. */
  lastNack?: NackStatus;
  state: SyncState;
}

export interface ProxyStatus {
  /** xDS node id. */
  id: string;
  /** Server-assigned id of the ADS stream; one proxy may briefly hold two while it reconnects. */
  connectionId: string;
  /** Remote address of the stream, as gRPC reports it. */
  peer: string;
  identity: Pick<ProxyIdentity, 'namespace' | 'podName' | 'type' | 'workloadName'>;
  connectedAt: string;
  types: Record<ResourceKind, TypeStatus>;
}

/** The sent/acked/NACK facts syncState reads. */
export type SyncFacts = Pick<TypeStatus, 'sentNonce' | 'ackedNonce' | 'lastNack'>;

/**
 * Derives istioctl's state from nonces rather than versions: two responses may carry the same
 * content-derived version (a resend after a subscription change), and only the nonce says which one
 * the proxy answered.
 */
export function syncState(t: SyncFacts): SyncState {
  if (!t.sentNonce) return 'NOT SENT';
  if (t.lastNack?.nonce === t.sentNonce) return 'STALE';
  return t.ackedNonce === t.sentNonce ? 'SYNCED' : 'STALE';
}
