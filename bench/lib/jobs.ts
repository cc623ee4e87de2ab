/** The messages between the driver and the load-generator process (over Node's IPC channel). */
import type { Payload } from './payloads.js';

/** Where a client sends its requests: the listener's address, and the Host header (what a mesh routes on). */
export interface Endpoint {
  host: string;
  port: number;
  hostHeader: string;
}

/** Closed-loop saturation with autocannon: N connections, each sending its next request on the last reply. */
export interface SaturateJob {
  kind: 'saturate';
  id: number;
  endpoint: Endpoint;
  payload: Payload;
  connections: number;
  warmupS: number;
  durationS: number;
}

/** Open-loop fixed rate: requests on a fixed timeline, latency measured from each one's scheduled time. */
export interface FixedRateJob {
  kind: 'fixed-rate';
  id: number;
  endpoint: Endpoint;
  payload: Payload;
  rate: number;
  /** Keep-alive connections the client may open; beyond them requests queue (and the wait counts). */
  connections: number;
  warmupS: number;
  durationS: number;
  timeoutMs: number;
}

export type Job = SaturateJob | FixedRateJob;

export interface SaturateResult {
  /** 2xx replies with the expected body. */
  ok: number;
  durationS: number;
  rps: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  /** autocannon's own latency (ms resolution, closed loop: for reference only). */
  p50Ms: number;
  p99Ms: number;
}

export interface FixedRateResult {
  sent: number;
  ok: number;
  errors: number;
  timeouts: number;
  /** Non-2xx status, or a body other than the payload's. */
  bad: number;
  /** Completed requests per second over the measured window. */
  achievedRps: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  /** p99 of how late requests left relative to their schedule: large means the generator itself fell behind. */
  sendLagP99Us: number;
}

/** Loadgen -> driver. `warm`: warm-up done, waiting for `go` (the driver reads CPU counters in between). */
export type LoadgenMessage =
  | { type: 'warm'; id: number }
  | { type: 'done'; id: number; result: SaturateResult | FixedRateResult }
  | { type: 'failed'; id: number; error: string };

/** Driver -> loadgen. */
export type DriverMessage = Job | { kind: 'go'; id: number };
