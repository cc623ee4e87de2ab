/** A thing under test: where the client sends requests and which processes do the proxying. */
import type { Endpoint } from './jobs.js';

export const TARGET_NAMES = ['direct', 'sidecar', 'no-telemetry', 'policies', 'mesh', 'http-proxy', 'nginx', 'nginx-2hop', 'node-relay-2hop'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const TARGET_TITLES: Record<TargetName, string> = {
  direct: 'direct (no proxy)',
  sidecar: 'Trellis, 1 sidecar (client outbound; metrics on, 1% tracing)',
  'no-telemetry': 'Trellis, 1 sidecar, telemetry off',
  policies: 'Trellis, 1 sidecar, ring hash + outlier detection + VirtualService',
  mesh: 'Trellis, 2 sidecars (outbound -> inbound)',
  'http-proxy': 'http-proxy (keep-alive agent)',
  nginx: 'nginx (1 worker, upstream keepalive)',
  'nginx-2hop': 'nginx, 2 hops (two nginx chained: the 2-sidecar path\'s reference)',
  'node-relay-2hop': 'two bare Node TCP relays chained (no HTTP work: Node\'s floor for the 2-sidecar path)',
};

export interface ProxyProcess {
  role: string;
  pid: number;
}

export interface Target {
  name: TargetName;
  endpoint: Endpoint;
  /** The proxy processes on the request path (none for direct): their CPU and memory are what's measured. */
  proxies: ProxyProcess[];
}

/** A target that couldn't be started, and why: reported as a row with a note instead of figures. */
export interface Unavailable {
  name: TargetName;
  reason: string;
}
