import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { EnvoyJson } from '@trellis/envoy-api';
import { Sidecar } from '../../src/sidecar.js';
import { encodePeerMetadata } from '../../src/telemetry/peer-metadata.js';
import { workloadFromIdentity } from '../../src/telemetry/workload-info.js';
import { edsCluster, listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { histogramSeries, promSamples } from './prom-samples.js';

// One in-process sidecar on 127.0.181.2 that calls itself: its outbound listener sends to its own inbound
// listener (an endpoint with the app port in trellis metadata, as the control plane advertises sidecars),
// which forwards to the apps on the same pod IP. Both reporters' metrics land in one registry. Plus a
// plain (non-sidecar) app on 127.0.181.3.

const POD = '127.0.181.2';
const PLAIN = '127.0.181.3';
const SVC = 'svc.test.svc.cluster.local';
const GRPC = 'grpc.test.svc.cluster.local';
const SELF = { workloadName: 'svc-v1', namespace: 'test', labels: { app: 'svc', version: 'v1' } };

const services = (host: string) => ({
  filter_metadata: { istio: { fields: { services: { listValue: { values: [{ structValue: { fields: {
    host: { stringValue: host }, name: { stringValue: host.split('.')[0] }, namespace: { stringValue: 'test' },
  } } }] } } } } },
});

/** A ClusterLoadAssignment whose endpoint is this pod's inbound listener, fronting `appPort`. */
function viaSidecar(name: string, appPort: number): EnvoyJson {
  return {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{
      endpoint: { address: { socket_address: { address: POD, port_value: 15006 } } },
      metadata: { filter_metadata: {
        trellis: { fields: { target_port: { numberValue: appPort } } },
        istio: { fields: { workload: { stringValue: 'svc-v1;test;svc;v1;Kubernetes' } } },
      } },
    }] }],
  };
}

const byPort = (port: number, cluster: string) =>
  toCluster({ prefix: '/', headers: [{ name: 'x-trellis-inbound-port', string_match: { exact: String(port) } }] }, cluster);

function config(plainPort: number): ReturnType<typeof snapshot> {
  const out = { ...listener('virtualOutbound', 15001, 'out'), traffic_direction: 'OUTBOUND' };
  const inb = { ...listener('virtualInbound', 15006, 'in'), traffic_direction: 'INBOUND' };
  return snapshot({
    listeners: [out, inb],
    routes: [
      routeConfig('out', [
        vhost('svc', ['svc'], [toCluster({ prefix: '/' }, `outbound|80||${SVC}`)]),
        vhost('grpc', ['grpc'], [toCluster({ prefix: '/' }, `outbound|50051||${GRPC}`)]),
        vhost('plain', ['plain'], [toCluster({ prefix: '/' }, 'outbound|80||plain.test.svc.cluster.local')]),
      ]),
      routeConfig('in', [vhost('inbound', ['*'], [byPort(9080, 'inbound|9080||'), byPort(50051, 'inbound|50051||')])]),
    ],
    clusters: [
      edsCluster(`outbound|80||${SVC}`, { extra: { metadata: services(SVC) } }),
      edsCluster(`outbound|50051||${GRPC}`, { h2: true, extra: { metadata: services(GRPC) } }),
      staticCluster('outbound|80||plain.test.svc.cluster.local', [{ address: PLAIN, port: plainPort }]),
      staticCluster('inbound|9080||', [{ address: POD, port: 9080 }], { extra: { metadata: services(SVC) } }),
      staticCluster('inbound|50051||', [{ address: POD, port: 50051 }], { h2: true, extra: { metadata: services(GRPC) } }),
    ],
    endpoints: [viaSidecar(`outbound|80||${SVC}`, 9080), viaSidecar(`outbound|50051||${GRPC}`, 50051)],
  });
}

describe('sidecar telemetry (in process)', () => {
  let sidecar: Sidecar;
  let app: http.Server;
  let plain: http.Server;
  let grpcApp: http2.Http2Server;
  const appSaw: http.IncomingHttpHeaders[] = [];
  const plainSaw: http.IncomingHttpHeaders[] = [];
  let logDir: string;

  beforeAll(async () => {
    app = http.createServer((req, res) => {
      appSaw.push(req.headers);
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`got ${n}`));
    });
    plain = http.createServer((req, res) => {
      plainSaw.push(req.headers);
      req.resume();
      req.on('end', () => res.end('plain'));
    });
    grpcApp = http2.createServer();
    grpcApp.on('stream', (stream, headers) => {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        if (headers[':path'] === '/pkg.Svc/TrailersOnly') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '5', 'grpc-message': 'nope' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    await Promise.all([
      new Promise<void>((r) => app.listen(9080, POD, r)),
      new Promise<void>((r) => plain.listen(0, PLAIN, r)),
      new Promise<void>((r) => grpcApp.listen(50051, POD, r)),
    ]);
    logDir = await mkdtemp(join(tmpdir(), 'trellis-telemetry-'));
    sidecar = new Sidecar({
      podIp: POD,
      ports: { outbound: 15001, inbound: 15006, admin: 0, health: 0, metrics: 0 },
      telemetry: { workload: SELF, accessLogPath: join(logDir, 'access.log'), accessLogOptions: { flushIntervalMs: 20 } },
    });
    await sidecar.start();
    sidecar.apply(config((plain.address() as net.AddressInfo).port));
    await sidecar.settled();
    sidecar.setReady();
  });

  afterAll(async () => {
    await sidecar?.close(200);
    await Promise.all([app, plain, grpcApp].map((s) => new Promise((r) => s?.close(r))));
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const { address, port } = sidecar.metricsAddress()!;
    const text = await (await fetch(`http://${address}:${port}/stats/prometheus`)).text();
    parsePrometheusTextFormat(text); // must not throw
    return promSamples(text);
  };
  const requests = async (match: Record<string, string>) =>
    (await scrape()).filter((s) => s.name === 'istio_requests_total' && Object.entries(match).every(([k, v]) => s.labels[k] === v));

  function h1(port: number, host: string, path: string, opts: { chunks?: string[]; headers?: http.OutgoingHttpHeaders } = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: POD, port, path, method: opts.chunks ? 'POST' : 'GET', headers: { host, ...opts.headers }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (const c of opts.chunks ?? []) req.write(c);
      req.end();
    });
  }

  it('a chunked HTTP/1 body is counted as request bytes on both reporters', async () => {
    const r = await h1(15001, 'svc', '/upload', { chunks: ['abc', 'defgh', 'ij'] });
    expect(r).toEqual({ status: 200, body: 'got 10' });
    const samples = await scrape();
    const bytes = histogramSeries(samples, 'istio_request_bytes').filter((h) => h.labels.destination_service === SVC);
    expect(bytes.map((h) => [h.labels.reporter, h.count, h.sum]).sort()).toEqual([['destination', 1, 10], ['source', 1, 10]]);
    const resp = histogramSeries(samples, 'istio_response_bytes').filter((h) => h.labels.destination_service === SVC);
    expect(resp.map((h) => h.sum)).toEqual([6, 6]);
    // The inbound side read who called from the header; the app never saw it.
    const inbound = (await requests({ reporter: 'destination', destination_service: SVC }))[0]!;
    expect([inbound.labels.source_workload, inbound.labels.source_app, inbound.labels.source_version]).toEqual(['svc-v1', 'svc', 'v1']);
    expect(appSaw.at(-1)!['x-envoy-peer-metadata']).toBeUndefined();
  });

  it('gRPC over HTTP/2: request_protocol grpc, grpc_response_status from trailers or a trailers-only reply, h2 body bytes', async () => {
    const session = http2.connect(`http://${POD}:15001`);
    const call = (path: string) =>
      new Promise<void>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': path, ':authority': 'grpc', 'content-type': 'application/grpc', te: 'trailers' });
        s.on('error', reject);
        s.resume();
        s.on('close', () => resolve());
        s.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
      });
    try {
      await call('/pkg.Svc/Method');
      await call('/pkg.Svc/TrailersOnly');
    } finally {
      session.close();
    }
    const grpc = await requests({ destination_service: GRPC });
    expect(grpc.map((s) => [s.labels.reporter, s.labels.request_protocol, s.labels.grpc_response_status, s.labels.response_code, s.value]).sort()).toEqual([
      ['destination', 'grpc', '14', '200', 1],
      ['destination', 'grpc', '5', '200', 1],
      ['source', 'grpc', '14', '200', 1],
      ['source', 'grpc', '5', '200', 1],
    ]);
    const bytes = histogramSeries(await scrape(), 'istio_request_bytes').filter((h) => h.labels.destination_service === GRPC);
    expect(bytes.map((h) => h.sum)).toEqual([7, 7, 7, 7]);
    // Plain HTTP requests have an empty grpc_response_status.
    expect((await requests({ destination_service: SVC })).every((s) => s.labels.request_protocol === 'http' && s.labels.grpc_response_status === '')).toBe(true);
  });

  it('no header reaches a plain (non-sidecar) endpoint', async () => {
    expect(await h1(15001, 'plain', '/')).toEqual({ status: 200, body: 'plain' });
    expect(plainSaw).toHaveLength(1);
    expect(plainSaw[0]!['x-envoy-peer-metadata']).toBeUndefined();
    const [s] = await requests({ destination_service: 'plain.test.svc.cluster.local' });
    expect(s).toBeUndefined(); // a STATIC cluster without istio metadata: the service is unknown
    const [u] = await requests({ reporter: 'source', destination_service: 'unknown', response_code: '200' });
    expect([u!.labels.destination_workload, u!.value]).toEqual(['unknown', 1]);
  });

  it('inbound: a malformed peer header counts as an unknown source; a well-formed one is believed (no mTLS, as Istio in plaintext); both are stripped', async () => {
    const before = appSaw.length;
    const mallory = encodePeerMetadata(workloadFromIdentity({ workloadName: 'mallory', namespace: 'evil', labels: { app: 'm' } }));
    await h1(15006, 'svc', '/', { headers: { 'x-trellis-inbound-port': '9080', 'x-envoy-peer-metadata': 'not base64 json!' } });
    await h1(15006, 'svc', '/', { headers: { 'x-trellis-inbound-port': '9080', 'x-envoy-peer-metadata': mallory } });
    await h1(15006, 'svc', '/', { headers: { 'x-trellis-inbound-port': '9080', 'x-envoy-peer-metadata': Buffer.from('{"WORKLOAD_NAME":' + '"x'.repeat(2000) + '"}').toString('base64') } });
    expect(appSaw.slice(before).map((h) => h['x-envoy-peer-metadata'])).toEqual([undefined, undefined, undefined]);
    const unknown = await requests({ reporter: 'destination', source_workload: 'unknown' });
    expect(unknown.map((s) => [s.labels.source_workload_namespace, s.labels.source_app, s.value])).toEqual([['unknown', 'unknown', 2]]);
    const evil = await requests({ reporter: 'destination', source_workload: 'mallory' });
    expect(evil.map((s) => [s.labels.source_workload_namespace, s.labels.source_app, s.labels.source_canonical_service, s.value])).toEqual([['evil', 'm', 'm', 1]]);
  });

  it('no route: 404 NR with unknown destination; a request the codec refuses is logged but not counted', async () => {
    expect((await h1(15001, 'nowhere', '/')).status).toBe(404);
    const [nr] = await requests({ response_flags: 'NR' });
    expect([nr!.labels.reporter, nr!.labels.response_code, nr!.labels.destination_service, nr!.labels.destination_workload, nr!.value]).toEqual(['source', '404', 'unknown', 'unknown', 1]);
    const total = async () => (await requests({})).reduce((n, s) => n + s.value, 0);
    const counted = await total();
    await new Promise<void>((resolve) => {
      const s = net.connect(15001, POD, () => s.end('GET /\u0001 HTTP/1.1\r\n\r\n'));
      s.resume();
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    expect(await total()).toBe(counted);
    await sidecar.telemetry.accessLog!.flush();
    const lines = (await readFile(join(logDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const codec = lines.at(-1);
    expect([codec.response_code, codec.response_flags, codec.method, codec.path]).toEqual([400, 'DPE', null, null]);
    const nrLine = lines.find((l) => l.response_flags === 'NR');
    expect([nrLine.authority, nrLine.response_code, nrLine.upstream_cluster, nrLine.route_name]).toEqual(['nowhere', 404, null, null]);
  });
});
