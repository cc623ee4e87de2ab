import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ActiveStream } from '../../src/http/active-stream.js';
import { ResponseFlag, StreamInfo } from '../../src/http/stream-info.js';
import { IstioMetrics } from '../../src/telemetry/istio-metrics.js';
import { decodePeerMetadata, encodePeerMetadata } from '../../src/telemetry/peer-metadata.js';
import { workloadFromEndpointMetadata, workloadFromIdentity } from '../../src/telemetry/workload-info.js';
import { histogramSeries, promSamples } from './prom-samples.js';

// IstioMetrics on its own: label sets stay one series each across config swaps and peer header spellings,
// and recording never looks at more than the stream's info, headers and snapshot.

const SELF = workloadFromIdentity({ workloadName: 'me', namespace: 'ns', labels: { app: 'me', version: 'v9' } });

function clusterConfig(host: string) {
  return { metadata: { istio: { services: [{ host, name: host.split('.')[0], namespace: 'ns' }] } } };
}

function stream(direction: 'INBOUND' | 'OUTBOUND', clusters: Map<string, unknown>, headers: Record<string, string> = {}): ActiveStream {
  return { ctx: { direction }, snapshot: { clusters }, authority: 'svc:80', headers } as unknown as ActiveStream;
}

function info(code: number, opts: { cluster?: string; endpointMd?: string; peer?: string; flags?: number; grpc?: string; bytes?: [number, number] } = {}): StreamInfo {
  const i = new StreamInfo();
  i.responseCode = code;
  i.clusterName = opts.cluster ?? '';
  if (opts.endpointMd) i.upstream = { endpoint: { metadata: { istio: { workload: opts.endpointMd } } } } as never;
  if (opts.peer) i.downstreamPeerMetadata = opts.peer;
  if (opts.flags) i.setFlag(opts.flags);
  if (opts.grpc !== undefined) i.grpcStatus = opts.grpc;
  i.durationMs = 3;
  [i.bytesReceived, i.bytesSent] = opts.bytes ?? [0, 0];
  return i;
}

const scrape = async (r: Registry) => promSamples(await r.metrics());

describe('IstioMetrics', () => {
  it('a swapped-in config with the same cluster metadata keeps counting in the same series', async () => {
    const registry = new Registry();
    const m = new IstioMetrics(registry, SELF);
    const md = 'svc-v1;ns;svc;v1;Kubernetes';
    for (let swap = 0; swap < 3; swap++) {
      const clusters = new Map([['c', { config: clusterConfig('svc.ns.svc.cluster.local') }]]);
      for (let i = 0; i < 4; i++) m.record(info(200, { cluster: 'c', endpointMd: md, bytes: [1, 2] }), stream('OUTBOUND', clusters));
    }
    const requests = (await scrape(registry)).filter((s) => s.name === 'istio_requests_total');
    expect(requests.map((s) => [s.labels.destination_workload, s.labels.destination_service, s.value])).toEqual([['svc-v1', 'svc.ns.svc.cluster.local', 12]]);
  });

  it('two spellings of the same peer header are one source', async () => {
    const registry = new Registry();
    const m = new IstioMetrics(registry, SELF);
    const a = encodePeerMetadata(workloadFromIdentity({ workloadName: 'cl', namespace: 'ns', labels: { app: 'cl', version: 'v1' } }));
    const reordered = Buffer.from(JSON.stringify({ NAMESPACE: 'ns', LABELS: { version: 'v1', app: 'cl' }, CLUSTER_ID: 'Kubernetes', WORKLOAD_NAME: 'cl' })).toString('base64');
    expect(reordered).not.toBe(a);
    const clusters = new Map([['inbound|80||', { config: clusterConfig('svc.ns.svc.cluster.local') }]]);
    m.record(info(200, { cluster: 'inbound|80||', peer: a }), stream('INBOUND', clusters));
    m.record(info(200, { cluster: 'inbound|80||', peer: reordered }), stream('INBOUND', clusters));
    const requests = (await scrape(registry)).filter((s) => s.name === 'istio_requests_total');
    expect(requests.map((s) => [s.labels.reporter, s.labels.source_workload, s.labels.source_canonical_revision, s.labels.destination_workload, s.value])).toEqual([
      ['destination', 'cl', 'v1', 'me', 2],
    ]);
  });

  it('an inbound cluster serving several services picks the one the authority names', async () => {
    const registry = new Registry();
    const m = new IstioMetrics(registry, SELF);
    const cfg = { metadata: { istio: { services: [
      { host: 'alias.ns.svc.cluster.local', name: 'alias', namespace: 'ns' },
      { host: 'svc.ns.svc.cluster.local', name: 'svc', namespace: 'ns' },
    ] } } };
    const clusters = new Map([['inbound|80||', { config: cfg }]]);
    m.record(info(200, { cluster: 'inbound|80||' }), stream('INBOUND', clusters)); // authority svc:80
    const other = { ...stream('INBOUND', clusters), authority: 'nothing-known' } as ActiveStream;
    m.record(info(200, { cluster: 'inbound|80||' }), other);
    const requests = (await scrape(registry)).filter((s) => s.name === 'istio_requests_total');
    expect(requests.map((s) => [s.labels.destination_service_name, s.value]).sort()).toEqual([['alias', 1], ['svc', 1]]);
  });

  it('outcome labels: code, flags, gRPC status (only for gRPC, only real codes)', async () => {
    const registry = new Registry();
    const m = new IstioMetrics(registry, SELF);
    const none = new Map();
    const grpc = stream('OUTBOUND', none, { 'content-type': 'application/grpc+proto' });
    m.record(info(200, { grpc: '0' }), grpc);
    m.record(info(200, { grpc: '7' }), grpc);
    m.record(info(200, { grpc: 'garbage' }), grpc);
    m.record(info(503, { flags: ResponseFlag.UH | ResponseFlag.URX }), stream('OUTBOUND', none));
    m.record(info(200, { grpc: '7' }), stream('OUTBOUND', none)); // not a gRPC request: status ignored
    const requests = (await scrape(registry)).filter((s) => s.name === 'istio_requests_total');
    expect(requests.map((s) => [s.labels.request_protocol, s.labels.response_code, s.labels.grpc_response_status, s.labels.response_flags, s.value])).toEqual([
      ['grpc', '200', '0', '-', 1],
      ['grpc', '200', '7', '-', 1],
      ['grpc', '200', '', '-', 1],
      ['http', '503', '', 'UH,URX', 1],
      ['http', '200', '', '-', 1],
    ]);
    // Histograms follow the same series.
    expect(histogramSeries(await scrape(registry), 'istio_request_duration_milliseconds').map((h) => [h.count, h.sum, h.buckets['5']])).toEqual(
      Array.from({ length: 5 }, () => [1, 3, 1]),
    );
  });

  it("endpoint metadata in Istio's format names the destination; anything else is unknown", () => {
    expect(workloadFromEndpointMetadata('reviews-v2;default;reviews;v2;Kubernetes')).toMatchObject({
      workload: 'reviews-v2', namespace: 'default', app: 'reviews', version: 'v2', canonicalService: 'reviews', canonicalRevision: 'v2', cluster: 'Kubernetes',
    });
    expect(workloadFromEndpointMetadata('a;b')).toBeNull();
    expect(workloadFromEndpointMetadata(42)).toBeNull();
  });

  it('peer metadata: round trip, and malformed or oversized values decode to nothing', () => {
    const w = workloadFromIdentity({ workloadName: 'x', namespace: 'y', labels: { app: 'a', version: 'v', 'service.istio.io/canonical-name': 'cn' } });
    expect(decodePeerMetadata(encodePeerMetadata(w))).toEqual(w);
    expect(decodePeerMetadata('%%%')).toBeNull();
    expect(decodePeerMetadata(Buffer.from('[1,2]').toString('base64'))).toBeNull();
    expect(decodePeerMetadata('A'.repeat(5000))).toBeNull();
    // A field that is too long is unknown, not truncated.
    expect(decodePeerMetadata(Buffer.from(JSON.stringify({ WORKLOAD_NAME: 'w'.repeat(300), NAMESPACE: 'n' })).toString('base64'))).toMatchObject({ workload: 'unknown', namespace: 'n' });
  });
});
