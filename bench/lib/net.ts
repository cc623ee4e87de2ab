/** Waiting for listeners to come up, and one-off checks that a target answers correctly. */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Endpoint } from './jobs.js';
import { requestBody, requestHeaders, type Payload } from './payloads.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Reply {
  status: number;
  body: string;
}

/** One request, fresh connection, bounded by a timeout. */
export function fetchOnce(endpoint: Endpoint, payload: Payload, timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        method: payload.method,
        path: payload.path,
        headers: { ...requestHeaders(payload, endpoint.hostHeader), connection: 'close' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(requestBody(payload));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it succeeded. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Whether the target answers this payload with exactly the expected body. */
export async function answersCorrectly(endpoint: Endpoint, payload: Payload): Promise<boolean> {
  const r = await fetchOnce(endpoint, payload);
  return r.status === 200 && r.body === payload.responseBody;
}
