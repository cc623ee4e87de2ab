/** Closed-loop saturation with autocannon (pipelining 1): how many requests/s a target answers at most. */
import autocannon from 'autocannon';
import type { Endpoint, SaturateResult } from './jobs.js';
import { requestBody, requestHeaders, type Payload } from './payloads.js';

export interface SaturateRun {
  endpoint: Endpoint;
  payload: Payload;
  connections: number;
  durationS: number;
}

export async function saturate(run: SaturateRun): Promise<SaturateResult> {
  const { endpoint, payload } = run;
  const body = requestBody(payload);
  const r = await autocannon({
    url: `http://${endpoint.host}:${endpoint.port}${payload.path}`,
    connections: run.connections,
    pipelining: 1,
    duration: run.durationS,
    method: payload.method,
    headers: requestHeaders(payload, endpoint.hostHeader),
    ...(body ? { body } : {}),
    expectBody: payload.responseBody,
    timeout: 10,
  });
  // Only good answers count: a proxy that answers 5xx fast must not look fast.
  const ok = Math.max(0, r['2xx'] - r.mismatches);
  return {
    ok,
    durationS: r.duration,
    rps: ok / r.duration,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  };
}
