import type { PodJson } from '@trellis/control';

/** The parts of one `/debug/syncz` entry (the control plane's per-proxy xDS status) that a pod's row needs. */
export interface SyncEntry {
  identity?: { namespace?: string; podName?: string };
  connectedAt?: string;
  types: Partial<Record<string, { state?: string; subscribed?: readonly string[] | '*'; lastNack?: { nonce?: string }; sentNonce?: string } | undefined>>;
}

const SIDECAR_CONTAINER = 'trellis-proxy';

export const hasSidecar = (p: PodJson): boolean => p.spec.containers.some((c) => c.name === SIDECAR_CONTAINER);

/**
 * One word for a pod's sidecar, from the xDS status of its proxy: `-` without a sidecar, `NOT CONNECTED` when
 * its proxy has no stream, else istioctl's states folded over CDS/LDS/EDS/RDS: `NACK` if one rejected the
 * latest push, `STALE` if one hasn't ACKed it, `SYNCED` when all the types it subscribed to have.
 */
export function sidecarSync(pod: PodJson, proxies: readonly SyncEntry[] | undefined): string {
  if (!hasSidecar(pod)) return '-';
  if (!proxies) return '<unknown>';
  const mine = proxies
    .filter((p) => p.identity?.podName === pod.metadata.name && p.identity?.namespace === pod.metadata.namespace)
    .sort((a, b) => (b.connectedAt ?? '').localeCompare(a.connectedAt ?? ''))[0];
  if (!mine) return 'NOT CONNECTED';
  // A type the proxy never subscribed to (no EDS without EDS clusters) has nothing to be behind on.
  const types = ['cluster', 'listener', 'endpoint', 'route']
    .map((k) => mine.types[k])
    .filter((t) => !(Array.isArray(t?.subscribed) && t.subscribed.length === 0 && !t.sentNonce));
  if (types.length === 0) return 'NOT SENT';
  if (types.some((t) => t?.lastNack && t.lastNack.nonce === t.sentNonce)) return 'NACK';
  const states = types.map((t) => t?.state ?? 'NOT SENT');
  if (states.every((s) => s === 'SYNCED')) return 'SYNCED';
  return states.includes('STALE') ? 'STALE' : 'NOT SENT';
}
