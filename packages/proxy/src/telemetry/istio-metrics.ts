import type { Registry } from 'prom-client';
import type { ClusterConfig } from '../config/compiled-config.js';
import type { ActiveStream } from '../http/active-stream.js';
import type { StreamInfo } from '../http/stream-info.js';
import { decodePeerMetadata } from './peer-metadata.js';
import { CollectedMetric, HistogramCell, type CollectedValue } from './prometheus-collector.js';
import { UNKNOWN, UNKNOWN_WORKLOAD, workloadFromEndpointMetadata, type WorkloadInfo } from './workload-info.js';

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const DURATION_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];
/** Istio's default buckets for istio_request_bytes / istio_response_bytes. */
export const BYTES_BUCKETS: readonly number[] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** A destination service as Istio's cluster metadata (`istio.services`) names it. */
export interface ServiceRef {
  readonly host: string;
  readonly name: string;
  readonly namespace: string;
}

const UNKNOWN_SERVICE: ServiceRef = Object.freeze({ host: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN });
/**
 * Distinct peers and services remembered. They come from config and the mesh's sidecars, so this only
 * bounds a pathological mesh (or a caller inventing peer headers): past it, new ones count as unknown.
 */
const MAX_INTERNED = 4096;

/** One label set: its label values (built once) and what was recorded under it. */
interface Cell {
  readonly labels: Record<string, string>;
  requests: number;
  readonly duration: HistogramCell;
  readonly requestBytes: HistogramCell;
  readonly responseBytes: HistogramCell;
}

/**
 * Istio's standard metrics for one sidecar: istio_requests_total, istio_request_duration_milliseconds,
 * istio_request_bytes, istio_response_bytes, with Istio's labels. The outbound listener reports as the
 * source (destination from the chosen endpoint's and cluster's `istio` metadata); the inbound listener as
 * the destination (source from the caller's x-envoy-peer-metadata).
 *
 * Recording is a stream completion sink: it finds the cell for what decides the labels (reporter, peer
 * and service as shared objects, then status, flags and gRPC status as one integer) and bumps it; no label
 * object or key string is built per request, only per new cell. Samples are made at scrape time.
 */
export class IstioMetrics {
  /** Every cell, for scraping. */
  private cells: Cell[] = [];
  /** Cells by reporter, then peer, then service, then outcomeKey(): object keys and a small integer, no strings built. */
  private inbound = new Map<WorkloadInfo, Map<ServiceRef, Map<number, Cell>>>();
  private outbound = new Map<WorkloadInfo, Map<ServiceRef, Map<number, Cell>>>();
  /** Decoded x-envoy-peer-metadata values (each header value is decoded once). */
  private readonly headerPeers = new Map<string, WorkloadInfo>();
  /**
   * The last header value seen and its peer. Each request's value is a new string of a few hundred bytes,
   * so a Map lookup hashes all of it every time; comparing with the last one is a plain compare, and a
   * sidecar's callers are few.
   */
  private lastHeader = '';
  private lastHeaderPeer: WorkloadInfo = UNKNOWN_WORKLOAD;
  private readonly endpointPeers = new Map<string, WorkloadInfo>();
  private readonly services = new WeakMap<ClusterConfig, readonly ServiceRef[]>();
  /**
   * One object per distinct label content, so equal labels always land in the same cell: a cluster's new
   * config object, or a peer header spelled differently, finds the object it had before.
   */
  private readonly internedPeers = new Map<string, WorkloadInfo>();
  private readonly internedServices = new Map<string, ServiceRef>();
  /** The completion sink to hand listeners (bound once). */
  readonly sink: (info: StreamInfo, stream: ActiveStream | null) => void;

  constructor(
    registry: Registry,
    private readonly self: WorkloadInfo,
  ) {
    this.internedPeers.set(peerKey(UNKNOWN_WORKLOAD), UNKNOWN_WORKLOAD);
    this.internedServices.set(serviceKey(UNKNOWN_SERVICE), UNKNOWN_SERVICE);
    this.sink = (info, stream) => {
      if (stream !== null) this.record(info, stream);
    };
    const reset = () => {
      this.cells = [];
      this.inbound = new Map();
      this.outbound = new Map();
    };
    new CollectedMetric('istio_requests_total', 'Total requests.', 'counter', () => this.collectRequests(), reset).register(registry);
    const histograms: [string, string, (c: Cell) => HistogramCell][] = [
      ['istio_request_duration_milliseconds', 'Request duration in milliseconds.', (c) => c.duration],
      ['istio_request_bytes', 'Request body size in bytes.', (c) => c.requestBytes],
      ['istio_response_bytes', 'Response body size in bytes.', (c) => c.responseBytes],
    ];
    for (const [name, help, pick] of histograms) {
      new CollectedMetric(name, help, 'histogram', () => this.collectHistogram(name, pick), reset).register(registry);
    }
  }

  /** Records one finished request of a listener (`stream.ctx.direction` says which side reports). */
  record(info: StreamInfo, stream: ActiveStream): void {
    const inbound = stream.ctx.direction === 'INBOUND';
    const cluster = info.clusterName === '' ? undefined : stream.snapshot.clusters.get(info.clusterName)?.config;
    const service = cluster === undefined ? UNKNOWN_SERVICE : this.serviceOf(cluster, inbound ? stream.authority : null);
    const peer = inbound ? this.sourcePeer(info) : this.destinationPeer(info);
    const grpc = isGrpc(stream);
    const grpcCode = grpc ? grpcStatusCode(info.grpcStatus) : NOT_GRPC;
    const byPeer = inbound ? this.inbound : this.outbound;
    let byService = byPeer.get(peer);
    if (byService === undefined) byPeer.set(peer, (byService = new Map()));
    let byOutcome = byService.get(service);
    if (byOutcome === undefined) byService.set(service, (byOutcome = new Map()));
    const key = outcomeKey(info.responseCode, info.responseFlags, grpcCode);
    let cell = byOutcome.get(key);
    if (cell === undefined) {
      cell = {
        labels: this.labels(inbound, peer, service, info, grpc, grpcCode),
        requests: 0,
        duration: new HistogramCell(DURATION_BUCKETS_MS),
        requestBytes: new HistogramCell(BYTES_BUCKETS),
        responseBytes: new HistogramCell(BYTES_BUCKETS),
      };
      byOutcome.set(key, cell);
      this.cells.push(cell);
    }
    cell.requests++;
    cell.duration.observe(info.durationMs < 0 ? 0 : info.durationMs);
    cell.requestBytes.observe(info.bytesReceived);
    cell.responseBytes.observe(info.bytesSent);
  }

  private sourcePeer(info: StreamInfo): WorkloadInfo {
    const header = info.downstreamPeerMetadata;
    if (header === '') return UNKNOWN_WORKLOAD;
    if (header === this.lastHeader) return this.lastHeaderPeer;
    let peer = this.headerPeers.get(header);
    if (peer === undefined) {
      if (this.headerPeers.size >= MAX_INTERNED) return UNKNOWN_WORKLOAD;
      const decoded = decodePeerMetadata(header);
      peer = decoded === null ? UNKNOWN_WORKLOAD : this.internPeer(decoded);
      this.headerPeers.set(header, peer);
    }
    this.lastHeader = header;
    this.lastHeaderPeer = peer;
    return peer;
  }

  private destinationPeer(info: StreamInfo): WorkloadInfo {
    const md = info.upstream?.endpoint.metadata.istio?.workload;
    if (typeof md !== 'string') return UNKNOWN_WORKLOAD;
    let peer = this.endpointPeers.get(md);
    if (peer === undefined) {
      if (this.endpointPeers.size >= MAX_INTERNED) return UNKNOWN_WORKLOAD;
      const parsed = workloadFromEndpointMetadata(md);
      peer = parsed === null ? UNKNOWN_WORKLOAD : this.internPeer(parsed);
      this.endpointPeers.set(md, peer);
    }
    return peer;
  }

  private internPeer(p: WorkloadInfo): WorkloadInfo {
    const key = peerKey(p);
    const known = this.internedPeers.get(key);
    if (known !== undefined) return known;
    if (this.internedPeers.size >= MAX_INTERNED) return UNKNOWN_WORKLOAD;
    this.internedPeers.set(key, p);
    return p;
  }

  private internService(s: ServiceRef): ServiceRef {
    const key = serviceKey(s);
    const known = this.internedServices.get(key);
    if (known !== undefined) return known;
    if (this.internedServices.size >= MAX_INTERNED) return UNKNOWN_SERVICE;
    this.internedServices.set(key, s);
    return s;
  }

  /**
   * The cluster's service: its only (or first) `istio.services` entry; an inbound cluster serving several
   * services picks the one the request's authority names.
   */
  private serviceOf(cluster: ClusterConfig, authority: string | null): ServiceRef {
    let list = this.services.get(cluster);
    if (list === undefined) {
      list = servicesFromMetadata(cluster.metadata.istio?.services).map((s) => this.internService(s));
      this.services.set(cluster, list);
    }
    if (list.length === 0) return UNKNOWN_SERVICE;
    if (list.length === 1 || authority === null) return list[0]!;
    return pickByAuthority(list, authority) ?? list[0]!;
  }

  private labels(inbound: boolean, peer: WorkloadInfo, service: ServiceRef, info: StreamInfo, grpc: boolean, grpcCode: number): Record<string, string> {
    const src = inbound ? peer : this.self;
    const dst = inbound ? this.self : peer;
    return {
      reporter: inbound ? 'destination' : 'source',
      source_workload: src.workload,
      source_workload_namespace: src.namespace,
      source_principal: src.principal,
      source_app: src.app,
      source_version: src.version,
      source_canonical_service: src.canonicalService,
      source_canonical_revision: src.canonicalRevision,
      source_cluster: src.cluster,
      destination_workload: dst.workload,
      destination_workload_namespace: dst.namespace,
      destination_principal: dst.principal,
      destination_app: dst.app,
      destination_version: dst.version,
      destination_service: service.host,
      destination_service_name: service.name,
      destination_service_namespace: service.namespace,
      destination_canonical_service: dst.canonicalService,
      destination_canonical_revision: dst.canonicalRevision,
      destination_cluster: dst.cluster,
      request_protocol: grpc ? 'grpc' : 'http',
      response_code: String(info.responseCode),
      grpc_response_status: grpc && grpcCode <= MAX_GRPC_CODE ? String(grpcCode) : '',
      response_flags: info.responseFlagsString,
      // Plaintext: the destination knows there was no mTLS; the source can't tell (Istio's values).
      connection_security_policy: inbound ? 'none' : 'unknown',
    };
  }

  private collectRequests(): CollectedValue[] {
    const out: CollectedValue[] = [];
    for (const cell of this.cells) out.push({ value: cell.requests, labels: {}, sharedLabels: cell.labels });
    return out;
  }

  private collectHistogram(name: string, pick: (c: Cell) => HistogramCell): CollectedValue[] {
    const out: CollectedValue[] = [];
    for (const cell of this.cells) pick(cell).collect(name, cell.labels, out);
    return out;
  }
}

const peerKey = (p: WorkloadInfo) =>
  `${p.workload}\u0000${p.namespace}\u0000${p.principal}\u0000${p.app}\u0000${p.version}\u0000${p.canonicalService}\u0000${p.canonicalRevision}\u0000${p.cluster}`;
const serviceKey = (s: ServiceRef) => `${s.host}\u0000${s.name}\u0000${s.namespace}`;

const MAX_GRPC_CODE = 16;
/** A gRPC request whose status is missing or not a gRPC code (labelled ''). */
const NO_GRPC_STATUS = 30;
const NOT_GRPC = 31;

/** `grpc-status` as 0-16, else NO_GRPC_STATUS. */
function grpcStatusCode(s: string): number {
  const n = s.length === 1 || s.length === 2 ? Number(s) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= MAX_GRPC_CODE ? n : NO_GRPC_STATUS;
}

/** What decides a request's outcome labels as one small integer: status (0-1023), gRPC code (5 bits), flags. */
function outcomeKey(status: number, flags: number, grpcCode: number): number {
  return (flags * 32 + grpcCode) * 1024 + (status & 1023);
}

function isGrpc(stream: ActiveStream): boolean {
  const ct = stream.headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

function servicesFromMetadata(v: unknown): readonly ServiceRef[] {
  if (!Array.isArray(v)) return [];
  const out: ServiceRef[] = [];
  for (const s of v) {
    if (typeof s !== 'object' || s === null) continue;
    const o = s as Record<string, unknown>;
    const host = typeof o.host === 'string' && o.host !== '' ? o.host : UNKNOWN;
    out.push({
      host,
      name: typeof o.name === 'string' && o.name !== '' ? o.name : host.split('.')[0]!,
      namespace: typeof o.namespace === 'string' && o.namespace !== '' ? o.namespace : UNKNOWN,
    });
  }
  return out;
}

/** The service whose host (or short name) the authority names, port ignored. */
function pickByAuthority(list: readonly ServiceRef[], authority: string): ServiceRef | undefined {
  const colon = authority.lastIndexOf(':');
  const host = colon > 0 && !authority.endsWith(']') ? authority.slice(0, colon) : authority;
  const first = host.split('.')[0];
  return list.find((s) => s.host === host) ?? list.find((s) => s.name === first);
}
