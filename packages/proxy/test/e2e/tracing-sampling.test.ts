import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Server } from 'node:http';
import { ControlPlane, type TraceSummary } from '@trellis/control';
import { configDir, eventually, startApp, startSidecar, type SidecarProcess } from './harness.js';

// Sampling of a real `trellis proxy` process at --trace-sampling 1, spans to the control plane's collector.
// Pod IPs 127.0.186.x are this file's own.

const mesh = (port: number) => `
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: default }
spec: { selector: { app: hello }, ports: [{ name: http, port: 8080 }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: hello, namespace: default }
spec: { address: 127.0.0.1, labels: { app: hello }, ports: { http: ${port} } }
`;

describe('trace sampling at 1%', () => {
  let app: Server;
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let sidecar: SidecarProcess;

  const traces = async (): Promise<TraceSummary[]> =>
    ((await (await fetch(`http://127.0.0.1:${plane.apiPort}/api/v1/traces?service=client.default&limit=1000`)).json()) as { traces: TraceSummary[] }).traces;

  beforeAll(async () => {
    const hello = await startApp('v1');
    app = hello.server;
    config = await configDir({ 'hello.yaml': mesh(hello.port) });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, collectorPort: 0, debounceMs: 50 });
    sidecar = await startSidecar('127.0.186.1', `127.0.0.1:${plane.xdsPort}`, {
      TRELLIS_TRACE_SAMPLING: '1',
      TRELLIS_TRACE_COLLECTOR: `http://127.0.0.1:${plane.collectorPort}/v1/traces`,
      TRELLIS_TRACE_FLUSH_MS: '50',
    });
    await eventually('hello routed', async () => (await sidecar.call('hello:8080')).status === 200);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await plane?.close();
    app?.close();
    await config?.remove();
  });

  // Binomial(2000, 1%): mean 20, sd 4.45; [6, 38] is beyond 3 sd on both sides.
  test('2000 requests without a parent export about 20 traces (6..38), one span each', async () => {
    // The readiness probe's request above may have been sampled: count from here on.
    await new Promise((r) => setTimeout(r, 200));
    const before = new Set((await traces()).map((t) => t.traceId));
    const unsampledIds = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < 2000) {
        next++;
        const { status, body } = await sidecar.call('hello:8080');
        expect(status).toBe(200);
        const tp = (JSON.parse(body) as { headers: Record<string, string> }).headers.traceparent!;
        if (tp.endsWith('-00')) unsampledIds.add(tp.slice(3, 35));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // A forced-sampled marker after them: once it has arrived, so have the earlier batches.
    const marker = 'abcdefabcdefabcdefabcdefabcdef01';
    await sidecar.call('hello:8080', '/', { traceparent: `00-${marker}-1111111111111111-01` });
    await eventually('the marker trace', async () => (await traces()).some((t) => t.traceId === marker), 5000);
    const sampled = (await traces()).filter((t) => t.traceId !== marker && !before.has(t.traceId));
    expect(sampled.length).toBeGreaterThanOrEqual(6);
    expect(sampled.length).toBeLessThanOrEqual(38);
    expect(sampled.every((t) => t.spanCount === 1 && !unsampledIds.has(t.traceId))).toBe(true);
    // Every request got its own trace: the unsampled ones travelled on with fresh ids and sampled=0.
    expect(unsampledIds.size + sampled.length).toBe(2000);
  });
});
