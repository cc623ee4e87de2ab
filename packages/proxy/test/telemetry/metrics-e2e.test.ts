import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { request } from 'undici';
import { ControlPlane } from '@trellis/control';
import { configDir, eventually, startSidecar, type SidecarProcess } from '../e2e/harness.js';
import { histogramSeries, promSamples, type HistogramSeries, type PromSample } from './prom-samples.js';

// Istio's standard metrics, cluster stats and access logs end to end: the test (as the client app) calls
// `hello` through a client sidecar, which sends to the server sidecar's inbound listener, which forwards to
// the app. Real `trellis proxy` processes (the compiled bin: `npx tsc -b` first), a real control plane.
// Loopback 127.0.180.0/22: control plane .1, client sidecar .10, server pod (sidecar + app) .20.

const CP_IP = '127.0.180.1';
const CLIENT_IP = '127.0.180.10';
const SERVER_IP = '127.0.180.20';
const APP_PORT = 9080;
const FQDN = 'hello.default.svc.cluster.local';
const CLUSTER = `outbound|8080||${FQDN}`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: default }
spec: { selector: { app: hello }, ports: [{ name: http, port: 8080, targetPort: ${APP_PORT} }] }
`;

// The mix: 40 x 200 (POST, 5-byte body), 7 x 404, 3 x 503. Istio's default retry policy retries a 503
// twice, so the server side sees each 503 three times and the client reports them with URX.
const MIX: readonly [code: number, n: number][] = [
  [200, 40],
  [404, 7],
  [503, 3],
];

interface Sample {
  labels: Record<string, string>;
  value: number;
}
async function scrape(ip: string): Promise<{ text: string; families: Map<string, any>; samples: PromSample[] }> {
  const res = await fetch(`http://${ip}:15090/stats/prometheus`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  // The whole exposition parses (an exception fails the test).
  const families = new Map<string, any>((parsePrometheusTextFormat(text) as any[]).map((f) => [f.name, f]));
  return { text, families, samples: promSamples(text) };
}

/** A histogram's bucket bounds in ascending order. */
const les = (h: HistogramSeries) => Object.keys(h.buckets).sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));

function samples(families: Map<string, any>, name: string): Sample[] {
  const f = families.get(name);
  if (!f) throw new Error(`no metric ${name}`);
  return f.metrics.map((m: any) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
}

function histograms(scraped: { families: Map<string, any>; samples: PromSample[] }, name: string): HistogramSeries[] {
  expect(scraped.families.get(name)?.type).toBe('HISTOGRAM');
  return histogramSeries(scraped.samples, name);
}

describe('standard metrics and access logs through two sidecars', () => {
  let app: Server;
  const seenByApp: IncomingHttpHeaders[] = [];
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let client: SidecarProcess;
  let server: SidecarProcess;
  let logDir: string;

  beforeAll(async () => {
    app = createServer((req, res) => {
      seenByApp.push(req.headers);
      req.resume();
      req.on('end', () => {
        const code = Number(/^\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
        const body = `status-${code}`;
        res.writeHead(code, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((r) => app.listen(APP_PORT, SERVER_IP, r));
    logDir = await mkdtemp(join(tmpdir(), 'trellis-telemetry-'));
    config = await configDir({ 'hello.yaml': CONFIG });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: CP_IP, xdsPort: 0, debugHost: CP_IP, debugPort: 0, apiPort: 0, debounceMs: 20 });
    const cp = `${CP_IP}:${plane.xdsPort}`;
    const off = { TRELLIS_TRACE_COLLECTOR: 'off' };
    [server, client] = await Promise.all([
      startSidecar(SERVER_IP, cp, {
        ...off,
        TRELLIS_POD_NAME: 'hello-v2-0',
        TRELLIS_WORKLOAD: 'hello-v2',
        TRELLIS_LABELS: 'app=hello,version=v2',
        TRELLIS_APP_PORTS: `http:${APP_PORT}`,
        TRELLIS_ACCESS_LOG: join(logDir, 'server.log'),
      }),
      startSidecar(CLIENT_IP, cp, {
        ...off,
        TRELLIS_POD_NAME: 'client-0',
        TRELLIS_WORKLOAD: 'client',
        TRELLIS_LABELS: 'app=client,version=v1',
        TRELLIS_ACCESS_LOG: join(logDir, 'client.log'),
      }),
    ]);
    // The client knows the server pod (at its inbound listener) once the server sidecar has registered.
    await eventually('the client sidecar to have the server endpoint', async () => (await client.adminText('/clusters')).includes(`${CLUSTER}::${SERVER_IP}:15006::`));
    for (const [code, n] of MIX) {
      for (let i = 0; i < n; i++) {
        const post = code === 200;
        const res = await request(`http://${CLIENT_IP}:15001/status/${code}`, {
          method: post ? 'POST' : 'GET',
          headers: { host: 'hello', ...(i === 0 ? { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } : {}) },
          ...(post ? { body: 'hello' } : {}),
        });
        expect(res.statusCode).toBe(code);
        expect(await res.body.text()).toBe(`status-${code}`);
      }
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.all([client?.stop(), server?.stop()]);
    await plane?.close();
    await config?.remove();
    await new Promise((r) => app?.close(r));
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  const identity = {
    client: { workload: 'client', namespace: 'default', app: 'client', version: 'v1', canonical_service: 'client', canonical_revision: 'v1', cluster: 'Kubernetes', principal: 'unknown' },
    server: { workload: 'hello-v2', namespace: 'default', app: 'hello', version: 'v2', canonical_service: 'hello', canonical_revision: 'v2', cluster: 'Kubernetes', principal: 'unknown' },
  };
  const side = (prefix: 'source' | 'destination', who: (typeof identity)['client']) => ({
    [`${prefix}_workload`]: who.workload,
    [`${prefix}_workload_namespace`]: who.namespace,
    [`${prefix}_principal`]: who.principal,
    [`${prefix}_app`]: who.app,
    [`${prefix}_version`]: who.version,
    [`${prefix}_canonical_service`]: who.canonical_service,
    [`${prefix}_canonical_revision`]: who.canonical_revision,
    [`${prefix}_cluster`]: who.cluster,
  });
  const expectedLabels = (reporter: 'source' | 'destination', code: number, flags: string) => ({
    reporter,
    ...side('source', identity.client),
    ...side('destination', identity.server),
    destination_service: FQDN,
    destination_service_name: 'hello',
    destination_service_namespace: 'default',
    request_protocol: 'http',
    response_code: String(code),
    grpc_response_status: '',
    response_flags: flags,
    connection_security_policy: reporter === 'source' ? 'unknown' : 'none',
  });

  it('the client sidecar reports as source: exactly the requests sent, per status code, with Istio labels', async () => {
    const { families } = await scrape(CLIENT_IP);
    const requests = samples(families, 'istio_requests_total');
    expect(requests.map((s) => s.labels).sort((a, b) => a.response_code.localeCompare(b.response_code))).toEqual([
      expectedLabels('source', 200, '-'),
      expectedLabels('source', 404, '-'),
      expectedLabels('source', 503, 'URX'),
    ]);
    const byCode = Object.fromEntries(requests.map((s) => [s.labels.response_code, s.value]));
    expect(byCode).toEqual({ '200': 40, '404': 7, '503': 3 });
  });

  it('the server sidecar reports as destination, with the source named by the peer metadata header', async () => {
    const { families } = await scrape(SERVER_IP);
    const requests = samples(families, 'istio_requests_total');
    expect(requests.map((s) => s.labels).sort((a, b) => a.response_code.localeCompare(b.response_code))).toEqual([
      expectedLabels('destination', 200, '-'),
      expectedLabels('destination', 404, '-'),
      expectedLabels('destination', 503, '-'),
    ]);
    const byCode = Object.fromEntries(requests.map((s) => [s.labels.response_code, s.value]));
    // Each 503 arrives three times: the first attempt and Istio's two default retries.
    expect(byCode).toEqual({ '200': 40, '404': 7, '503': 9 });
  });

  it('histogram counts equal request counts; bytes are the bodies; buckets are Istio defaults', async () => {
    for (const [ip, want] of [
      [CLIENT_IP, { '200': 40, '404': 7, '503': 3 }],
      [SERVER_IP, { '200': 40, '404': 7, '503': 9 }],
    ] as const) {
      const scraped = await scrape(ip);
      for (const name of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
        const hs = histograms(scraped, name);
        expect(Object.fromEntries(hs.map((h) => [h.labels.response_code, h.count]))).toEqual(want);
        for (const h of hs) expect(h.buckets['+Inf']).toBe(h.count);
      }
      const reqBytes = Object.fromEntries(histograms(scraped, 'istio_request_bytes').map((h) => [h.labels.response_code, h.sum]));
      expect(reqBytes['200']).toBe(40 * 'hello'.length);
      expect(reqBytes['404']).toBe(0);
      const respBytes = Object.fromEntries(histograms(scraped, 'istio_response_bytes').map((h) => [h.labels.response_code, h.sum]));
      expect(respBytes).toEqual(Object.fromEntries(Object.entries(want).map(([code, n]) => [code, n * `status-${code}`.length])));
      // Every request body here is 5 or 0 bytes: the 10-byte bucket holds them all, the 1-byte one only the empty ones.
      const ok = histograms(scraped, 'istio_request_bytes').find((h) => h.labels.response_code === '200')!;
      expect([ok.buckets['1'], ok.buckets['10']]).toEqual([0, 40]);
      const duration = histograms(scraped, 'istio_request_duration_milliseconds')[0]!;
      expect(les(duration)).toEqual(
        ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf'],
      );
      // The labels on a histogram series are the counter's, exactly.
      const counter = samples(scraped.families, 'istio_requests_total').find((c) => c.labels.response_code === '200')!;
      const okDuration = histograms(scraped, 'istio_request_duration_milliseconds').find((h) => h.labels.response_code === '200')!;
      expect(okDuration.labels).toEqual(counter.labels);
      const bytes = histograms(scraped, 'istio_request_bytes')[0]!;
      expect(les(bytes)).toEqual(['1', '10', '100', '1000', '10000', '100000', '1000000', '10000000', '100000000', '1000000000', '+Inf']);
    }
  });

  it("Envoy's cluster stats are on the same endpoint", async () => {
    const { families } = await scrape(CLIENT_IP);
    const stat = (name: string) => samples(families, name).find((s) => s.labels.cluster_name === CLUSTER)?.value;
    // 50 requests, 6 of them retried once more each (two retries per 503).
    expect(stat('envoy_cluster_upstream_rq_total')).toBe(56);
    expect(stat('envoy_cluster_upstream_rq_retry')).toBe(6);
    expect(stat('envoy_cluster_upstream_rq_pending_overflow')).toBe(0);
    expect(stat('envoy_cluster_outlier_detection_ejections_active')).toBe(0);
    expect(stat('envoy_cluster_upstream_cx_active')).toBeGreaterThanOrEqual(1);
    expect(families.get('envoy_cluster_upstream_rq_total').type).toBe('COUNTER');
    expect(families.get('envoy_cluster_upstream_cx_active').type).toBe('GAUGE');
    // The server's inbound cluster sent 56 requests to the app.
    const serverStats = (await scrape(SERVER_IP)).families;
    expect(samples(serverStats, 'envoy_cluster_upstream_rq_total').find((s) => s.labels.cluster_name === `inbound|${APP_PORT}||`)?.value).toBe(56);
  });

  it('the peer metadata header never reaches the app (nor does the inbound port header)', () => {
    expect(seenByApp).toHaveLength(56);
    for (const h of seenByApp) {
      expect(h['x-envoy-peer-metadata']).toBeUndefined();
      expect(h['x-trellis-inbound-port']).toBeUndefined();
    }
  });

  it('access logs: one JSON line per request with the fields, on both sides', async () => {
    const read = async (name: string, n: number) => {
      const lines = await eventually(`${n} lines in ${name}`, async () => {
        const text = await readFile(join(logDir, name), 'utf8').catch(() => '');
        const l = text.split('\n').filter(Boolean);
        return l.length >= n ? l : undefined;
      }, 5000);
      expect(lines).toHaveLength(n);
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    const clientLog = await read('client.log', 50);
    for (const e of clientLog) {
      expect(Object.keys(e)).toEqual(expect.arrayContaining([
        'start_time', 'method', 'authority', 'path', 'protocol', 'response_code', 'response_flags', 'bytes_received', 'bytes_sent',
        'duration', 'upstream_host', 'upstream_cluster', 'x_request_id', 'trace_id', 'route_name',
      ]));
      expect(new Date(e.start_time as string).toISOString()).toBe(e.start_time);
      expect(e.authority).toBe('hello');
      expect(e.protocol).toBe('HTTP/1.1');
      expect(e.upstream_host).toBe(`${SERVER_IP}:15006`);
      expect(e.upstream_cluster).toBe(CLUSTER);
      expect(e.x_request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof e.duration).toBe('number');
      expect(e.route_name).toBe('default');
    }
    const ok = clientLog.filter((e) => e.response_code === 200);
    expect(ok).toHaveLength(40);
    expect(ok.every((e) => e.method === 'POST' && e.bytes_received === 5 && e.bytes_sent === 10 && e.path === '/status/200')).toBe(true);
    expect(clientLog.filter((e) => e.response_code === 503).map((e) => e.response_flags)).toEqual(['URX', 'URX', 'URX']);
    // The first request of each code carried a traceparent: its trace id is logged.
    expect(clientLog.filter((e) => e.trace_id === TRACE_ID)).toHaveLength(3);
    const serverLog = await read('server.log', 56);
    expect(serverLog.every((e) => e.upstream_cluster === `inbound|${APP_PORT}||` && e.upstream_host === `${SERVER_IP}:${APP_PORT}`)).toBe(true);
    // x-request-id travels: every server line belongs to a client request.
    const ids = new Set(clientLog.map((e) => e.x_request_id));
    expect(serverLog.every((e) => ids.has(e.x_request_id))).toBe(true);
  });
});
