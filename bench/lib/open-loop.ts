/**
 * A fixed-rate open-loop HTTP client. Request i is due at t0 + i/rate whatever happened to earlier ones, and its
 * latency runs from that due time (not from when it actually left), so a stalled proxy can't hide its stall by
 * slowing the client down (coordinated omission).
 *
 * Timing: performance.now() (the monotonic high-resolution clock process.hrtime reads, as a double in ms with
 * sub-µs resolution, and no BigInt allocated per read). libuv timers only resolve milliseconds, so within 2 ms
 * of the next due time the client spins on setImmediate, which still services sockets on every turn: it sends
 * within a few µs of schedule and never sleeps, at the price of one busy core. The bench gives it a core of
 * its own for these runs.
 *
 * Requests go through an undici Pool with a fixed number of keep-alive connections: when all are busy,
 * requests wait in the pool's queue, and that wait is part of their latency. (A client that opens a connection
 * per request once it falls behind never catches up again on a shared core.) undici's dispatch API is used
 * directly: no promise, stream or abort signal per request, so the client's own GC stays out of the tail.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher, Pool } from 'undici';
import type { Endpoint, FixedRateResult } from './jobs.js';
import { requestBody, requestHeaders, type Payload } from './payloads.js';
import { percentile, sortedFinite } from './percentiles.js';

export interface OpenLoopRun {
  endpoint: Endpoint;
  payload: Payload;
  pool: Pool;
  rate: number;
  requests: number;
  timeoutMs: number;
}

type Outcome = 'ok' | 'error' | 'timeout' | 'bad';

/** Sleep with a timer while the next send is further away than this; spin closer in. */
const SPIN_WINDOW_MS = 2;
/** How often in-flight requests are checked against the timeout. */
const SWEEP_MS = 50;

/** One request/response, as undici's dispatch handler. */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private readonly chunks: Buffer[] = [];
  timedOut = false;

  constructor(
    readonly index: number,
    readonly sentMs: number,
    private readonly expected: Buffer,
    private readonly done: (x: Exchange, outcome: Outcome) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new Error('timed out'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const good = this.status === 200 && Buffer.concat(this.chunks).equals(this.expected);
    this.done(this, good ? 'ok' : 'bad');
  }

  onResponseError(): void {
    this.done(this, this.timedOut ? 'timeout' : 'error');
  }

  timeOut(): void {
    this.timedOut = true;
    this.done(this, 'timeout');
    this.controller?.abort(new Error('timed out'));
  }
}

export function runOpenLoop(run: OpenLoopRun): Promise<FixedRateResult> {
  const { rate, requests, pool } = run;
  if (!(requests > 0 && rate > 0)) throw new RangeError(`an open-loop run needs requests > 0 and rate > 0`);
  const latencyUs = new Float64Array(requests).fill(NaN);
  const lagUs = new Float64Array(requests).fill(NaN);
  const counts: Record<Outcome, number> = { ok: 0, error: 0, timeout: 0, bad: 0 };
  const intervalMs = 1000 / rate;
  const options: Dispatcher.DispatchOptions = {
    path: run.payload.path,
    method: run.payload.method,
    headers: requestHeaders(run.payload, run.endpoint.hostHeader),
    body: requestBody(run.payload) ?? null,
  };
  const expected = Buffer.from(run.payload.responseBody);
  const t0 = performance.now() + 1;
  const due = (i: number) => t0 + i * intervalMs;
  let next = 0;
  let finished = 0;
  let lastEnd = t0;

  return new Promise((resolve) => {
    const inFlight = new Set<Exchange>();

    const settle = (x: Exchange, outcome: Outcome) => {
      if (!inFlight.delete(x)) return; // already settled (a timeout, then the abort's error)
      const end = performance.now();
      counts[outcome]++;
      // Failures get an infinite latency: reported as counts, left out of the percentiles.
      latencyUs[x.index] = outcome === 'ok' ? (end - due(x.index)) * 1000 : Infinity;
      lastEnd = Math.max(lastEnd, end);
      if (++finished === requests) done();
    };

    const sweep = setInterval(() => {
      const cutoff = performance.now() - run.timeoutMs;
      for (const x of inFlight) if (x.sentMs < cutoff) x.timeOut();
    }, SWEEP_MS);

    const send = (i: number) => {
      const now = performance.now();
      lagUs[i] = (now - due(i)) * 1000;
      const x = new Exchange(i, now, expected, settle);
      inFlight.add(x);
      pool.dispatch(options, x);
    };

    const pump = () => {
      const now = performance.now();
      while (next < requests && due(next) <= now) send(next++);
      if (next >= requests) return;
      const wait = due(next) - now;
      if (wait > SPIN_WINDOW_MS) setTimeout(pump, wait - SPIN_WINDOW_MS / 2);
      else setImmediate(pump);
    };

    const done = () => {
      clearInterval(sweep);
      const sorted = sortedFinite(latencyUs);
      resolve({
        sent: requests,
        ok: counts.ok,
        errors: counts.error,
        timeouts: counts.timeout,
        bad: counts.bad,
        achievedRps: counts.ok / ((lastEnd - t0) / 1000),
        p50Us: percentile(sorted, 50),
        p90Us: percentile(sorted, 90),
        p99Us: percentile(sorted, 99),
        maxUs: sorted.length ? sorted[sorted.length - 1]! : 0,
        sendLagP99Us: percentile(sortedFinite(lagUs), 99),
      });
    };

    pump();
  });
}
