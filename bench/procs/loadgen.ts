/**
 * The load generator, in its own process (pinned to its own core by the driver). Takes one job at a time over
 * IPC: warm up, report `warm`, wait for `go` (the driver reads the proxies' CPU counters in between), measure,
 * report `done`.
 */
import { Pool } from 'undici';
import type { DriverMessage, FixedRateResult, Job, LoadgenMessage, SaturateResult } from '../lib/jobs.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { saturate } from '../lib/saturate.js';

const send = (m: LoadgenMessage) => process.send!(m);
const waiting = new Map<number, () => void>();

process.on('message', (m: DriverMessage) => {
  if (m.kind === 'go') {
    waiting.get(m.id)?.();
    waiting.delete(m.id);
    return;
  }
  run(m).then(
    (result) => send({ type: 'done', id: m.id, result }),
    (err: Error) => send({ type: 'failed', id: m.id, error: err.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));

async function run(job: Job): Promise<SaturateResult | FixedRateResult> {
  const go = new Promise<void>((resolve) => waiting.set(job.id, resolve));
  if (job.kind === 'saturate') {
    const base = { endpoint: job.endpoint, payload: job.payload, connections: job.connections };
    if (job.warmupS > 0) await saturate({ ...base, durationS: job.warmupS });
    send({ type: 'warm', id: job.id });
    await go;
    return saturate({ ...base, durationS: job.durationS });
  }
  // One pool per job: the warm-up opens the connections the measurement then reuses.
  const pool = new Pool(`http://${job.endpoint.host}:${job.endpoint.port}`, { connections: job.connections, pipelining: 1 });
  try {
    const base = { endpoint: job.endpoint, payload: job.payload, pool, rate: job.rate, timeoutMs: job.timeoutMs };
    if (job.warmupS > 0) await runOpenLoop({ ...base, requests: Math.round(job.rate * job.warmupS) });
    send({ type: 'warm', id: job.id });
    await go;
    return await runOpenLoop({ ...base, requests: Math.round(job.rate * job.durationS) });
  } finally {
    await pool.destroy();
  }
}
