import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '../../src/control-plane.js';
import { LocalCluster } from '../../src/local/index.js';
import type { StoredSpan, TraceSummary } from '../../src/telemetry/trace-store.js';
import { eventually } from '../local/helpers.js';

// Tracing acceptance with real processes: `trellis up`'s local mode (control plane + its collector, pods as
// processes, `trellis proxy` sidecars at 100% sampling). The test plays the client pod's app and calls
// front through the client's sidecar; front calls back through its own sidecar, forwarding trace headers.
// Pod IPs 127.0.185.x are this file's own.

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const TRELLIS = root('bin/trellis.js');
const APP = fileURLToPath(new URL('./fixtures/trace-app.mjs', import.meta.url));

const deployment = (name: string, env: Record<string, string>, port: boolean) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: trace }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name}, version: v1 } }
    spec:
      containers:
      - name: app
        command: [node, ${JSON.stringify(APP)}]
        env: [${Object.entries({ APP: name, ...env }).map(([k, v]) => `{ name: ${k}, value: ${JSON.stringify(v)} }`).join(', ')}]
        ${port ? 'ports: [{ name: http, containerPort: 8080 }]' : ''}
${port ? `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: trace }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 8080 }] }` : ''}
`;

const MESH = {
  'namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: trace, labels: { istio-injection: enabled } }\n',
  'client.yaml': deployment('client', { CLIENT_ONLY: '1' }, false),
  'front.yaml': deployment('front', { NEXT: 'http://back.trace:8080/' }, true),
  'back.yaml': deployment('back', {}, true),
};

interface AppReply {
  app: string;
  headers: Record<string, string>;
  next: AppReply | null;
}

const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/;

describe('tracing through local-mode sidecars, collected by the control plane', () => {
  let dir: string;
  let plane: ControlPlane;
  let cluster: LocalCluster;
  let clientIp: string;

  /** A call from the client pod's app to front, through the client's sidecar (HTTP proxy form). */
  const callFront = (headers: Record<string, string> = {}): Promise<AppReply> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: clientIp, port: 15001, path: 'http://front.trace:8080/', headers: { host: 'front.trace:8080', ...headers }, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as AppReply) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
        },
      );
      req.on('error', reject);
      req.end();
    });

  const api = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${plane.apiPort}${path}`);
    return { status: res.status, body: await res.json() };
  };

  /** The trace's spans once `count` of them have reached the collector. */
  const traceSpans = (traceId: string, count: number): Promise<StoredSpan[]> =>
    eventually(`${count} spans of trace ${traceId}`, async () => {
      const { status, body } = await api(`/api/v1/traces/${traceId}`);
      const spans = status === 200 ? (body as { spans: StoredSpan[] }).spans : [];
      return spans.length >= count && spans;
    }, 8000);

  beforeAll(async () => {
    if (!existsSync(root('packages/cli/dist/main.js'))) throw new Error('build first (npx tsc -b): the sidecars run bin/trellis.js');
    dir = await mkdtemp(join(tmpdir(), 'trellis-trace-'));
    for (const [name, text] of Object.entries(MESH)) await writeFile(join(dir, name), text);
    plane = await ControlPlane.start({ configDir: dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiPort: 0, collectorPort: 0, debounceMs: 30 });
    cluster = LocalCluster.start(plane, {
      proxyCommand: [process.execPath, TRELLIS, 'proxy'],
      firstPodIp: '127.0.185.2',
      probeIntervalMs: 100,
      gracePeriodMs: 3000,
      tracing: { collector: `http://127.0.0.1:${plane.collectorPort}/v1/traces`, samplingPercent: 100 },
    });
    await eventually('3 ready pods', () => cluster.list().length === 3 && cluster.list().every((p) => p.ready), 20_000);
    const client = cluster.list().find((p) => p.deployment === 'client')!;
    clientIp = client.podIP;
    // Ready pods reach the sidecars' endpoints a push later; a first full round trip shows the mesh is wired.
    await eventually('front -> back answering', async () => (await callFront().catch(() => undefined))?.next?.app === 'back', 15_000);
  }, 40_000);

  afterAll(async () => {
    await cluster?.stop();
    await plane?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('one trace: client span -> server span -> client span -> server span, one x-request-id everywhere', async () => {
    const reply = await callFront();
    const atFront = TP.exec(reply.headers.traceparent!)!;
    const atBack = TP.exec(reply.next!.headers.traceparent!)!;
    expect(atFront[3]).toBe('1');
    expect(atBack[1]).toBe(atFront[1]);
    const traceId = atFront[1]!;
    const requestId = reply.headers['x-request-id']!;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(reply.next!.headers['x-request-id']).toBe(requestId);

    const spans = await traceSpans(traceId, 4);
    expect(spans).toHaveLength(4);
    const root = spans.find((s) => s.parentSpanId === '')!;
    const child = (parent: StoredSpan) => spans.filter((s) => s.parentSpanId === parent.spanId);
    const chain = [root];
    while (child(chain.at(-1)!).length === 1) chain.push(child(chain.at(-1)!)[0]!);
    expect(chain.map((s) => [s.kind, s.service])).toEqual([
      ['CLIENT', 'client.trace'],
      ['SERVER', 'front.trace'],
      ['CLIENT', 'front.trace'],
      ['SERVER', 'back.trace'],
    ]);
    // The span ids the apps saw are the server spans': each hop replaced the id with its own.
    expect(atFront[2]).toBe(chain[1]!.spanId);
    expect(atBack[2]).toBe(chain[3]!.spanId);
    for (const s of chain) {
      expect(s.attributes['guid:x-request-id']).toBe(requestId);
      expect(s.attributes.component).toBe('proxy');
      expect(s.attributes['http.request.method']).toBe('GET');
      expect(s.attributes['http.response.status_code']).toBe(200);
      expect(s.attributes.response_flags).toBe('-');
      expect(s.attributes['istio.namespace']).toBe('trace');
      expect(s.attributes.node_id).toMatch(/^sidecar~127\.0\.185\.\d+~/);
      expect(s.endTimeUnixMicros).toBeGreaterThanOrEqual(s.startTimeUnixMicros);
    }
    expect(chain.map((s) => s.attributes['istio.canonical_service'])).toEqual(['client', 'front', 'front', 'back']);
    expect(chain[0]!.attributes.upstream_cluster).toBe('outbound|8080||front.trace.svc.cluster.local');
    expect(chain[0]!.name).toBe('front.trace.svc.cluster.local:8080/*');
    expect(chain[2]!.attributes.upstream_cluster).toBe('outbound|8080||back.trace.svc.cluster.local');
    expect(String(chain[1]!.attributes.upstream_cluster)).toMatch(/^inbound\|8080\|/);
    // Nested in time too: each child starts within its parent.
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.startTimeUnixMicros).toBeGreaterThanOrEqual(chain[i - 1]!.startTimeUnixMicros);

    const { body } = await api('/api/v1/traces?service=back.trace&limit=5');
    expect((body as { traces: TraceSummary[] }).traces.map((t) => t.traceId)).toContain(traceId);
    expect((body as { traces: TraceSummary[] }).traces.find((t) => t.traceId === traceId)!.services).toEqual(['back.trace', 'client.trace', 'front.trace']);
  });

  test('a B3-only caller: trace id kept, B3 multi-header all the way, no traceparent added', async () => {
    const traceId = '463ac35c9f6413ad48485a3953bb6124';
    const callerSpan = 'a2fb4a1d1a96d312';
    const reply = await callFront({ 'x-b3-traceid': traceId, 'x-b3-spanid': callerSpan, 'x-b3-sampled': '1' });
    for (const h of [reply.headers, reply.next!.headers]) {
      expect(h['x-b3-traceid']).toBe(traceId);
      expect(h['x-b3-sampled']).toBe('1');
      expect(h['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
      expect(h.traceparent).toBeUndefined();
      expect(h.b3).toBeUndefined();
    }
    const spans = await traceSpans(traceId, 4);
    const first = spans.find((s) => s.parentSpanId === callerSpan)!;
    expect(first.kind).toBe('CLIENT');
    // B3's parent span id names the span before: at back it is front's client span.
    const frontClient = spans.find((s) => s.kind === 'CLIENT' && s.service === 'front.trace')!;
    expect(reply.next!.headers['x-b3-parentspanid']).toBe(frontClient.spanId);
    expect(reply.next!.headers['x-b3-spanid']).toBe(spans.find((s) => s.service === 'back.trace')!.spanId);
  });

  test('a B3 single-header caller keeps its format', async () => {
    const traceId = '80f198ee56343ba864fe8b2a57d3eff7';
    const reply = await callFront({ b3: `${traceId}-e457b5a2e4d86bd1-1` });
    for (const h of [reply.headers, reply.next!.headers]) {
      expect(h.b3).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-1-[0-9a-f]{16}$`));
      expect(h.traceparent).toBeUndefined();
      expect(h['x-b3-traceid']).toBeUndefined();
    }
    expect((await traceSpans(traceId, 4)).filter((s) => s.parentSpanId === 'e457b5a2e4d86bd1')).toHaveLength(1);
  });

  test('a W3C-only caller: trace id and tracestate kept, no B3 added', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const reply = await callFront({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    for (const h of [reply.headers, reply.next!.headers]) {
      expect(TP.exec(h.traceparent!)?.[1]).toBe(traceId);
      expect(h.traceparent).not.toContain('00f067aa0ba902b7');
      expect(h.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
      expect(h['x-b3-traceid']).toBeUndefined();
      expect(h.b3).toBeUndefined();
    }
    const spans = await traceSpans(traceId, 4);
    expect(spans.find((s) => s.parentSpanId === '00f067aa0ba902b7')?.service).toBe('client.trace');
  });

  test('malformed traceparent and b3 are replaced by a new trace, never passed on', async () => {
    const badTp = '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'; // upper-case hex is invalid
    const badB3 = '80f198ee56343ba864fe8b2a57d3eff7-zz57b5a2e4d86bd1-1';
    const reply = await callFront({ traceparent: badTp, b3: badB3, tracestate: 'congo=t61rcWkgMzE' });
    const traceId = TP.exec(reply.headers.traceparent!)![1]!;
    for (const h of [reply.headers, reply.next!.headers]) {
      expect(h.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(h.b3).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-1(-[0-9a-f]{16})?$`));
      // The tracestate of an invalid traceparent belongs to no trace: dropped.
      expect(h.tracestate).toBeUndefined();
    }
    expect(traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceId).not.toBe('80f198ee56343ba864fe8b2a57d3eff7');
    const spans = await traceSpans(traceId, 4);
    expect(spans.filter((s) => s.parentSpanId === '')).toHaveLength(1);
  });

  test("an upstream sampled=0 is honoured: headers go on unsampled, no span is exported", async () => {
    const unsampled = '0af7651916cd43dd8448eb211c80319c';
    const reply = await callFront({ traceparent: `00-${unsampled}-b7ad6b7169203331-00` });
    for (const h of [reply.headers, reply.next!.headers]) expect(h.traceparent).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`));
    expect(reply.headers.traceparent).not.toBe(reply.next!.headers.traceparent);
    // A sampled request after it: once its spans are in, anything the unsampled one exported would be too.
    const marker = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
    await callFront({ traceparent: `00-${marker}-b7ad6b7169203331-01` });
    await traceSpans(marker, 4);
    expect((await api(`/api/v1/traces/${unsampled}`)).status).toBe(404);
  });
});
