import type { ResourceKind } from '@trellis/envoy-api';
import { adminServer } from './admin/admin-server.js';
import type { LastUpdated } from './admin/config-dump.js';
import { healthServer } from './admin/health-server.js';
import type { SmallHttpServer } from './admin/small-http-server.js';
import { ClusterManager } from './cluster/cluster-manager.js';
import { compileConfig } from './config/compile.js';
import type { CompiledConfig, ListenerConfig, SocketAddress } from './config/compiled-config.js';
import { EMPTY_SNAPSHOT, type RawSnapshot } from './config/raw-snapshot.js';
import type { AccessLogSink, DataPlaneSnapshot, ListenerContext } from './http/data-plane.js';
import { ListenerManager } from './listener/listener-manager.js';
import { UpstreamPools } from './upstream/upstream-pools.js';
import { Tracer, type TracingOptions } from './tracing/tracer.js';
import { metricsServer } from './admin/metrics-server.js';
import { SidecarTelemetry, type TelemetryOptions } from './telemetry/sidecar-telemetry.js';

export interface SidecarPorts {
  /** virtualOutbound (Istio: 15001). 0 picks a free port. */
  readonly outbound: number;
  /** virtualInbound (Istio: 15006). */
  readonly inbound: number;
  /** Envoy-style admin (15000). */
  readonly admin: number;
  /** /healthz/ready (15021). */
  readonly health: number;
  /** Prometheus `/stats/prometheus` (15090); absent: no metrics server (metrics are still recorded). */
  readonly metrics?: number;
}

export interface SidecarOptions {
  /** The pod's address: listeners bind here (in local mode a loopback address such as 127.0.1.2). */
  readonly podIp: string;
  readonly ports: SidecarPorts;
  /** Where the admin server binds; the pod's loopback, so by default the pod IP. */
  readonly adminAddress?: string;
  readonly log?: (msg: string) => void;
  /** Gateways: a port below 1024 that can't be bound (EACCES) is served at port + this (80 -> 8080). */
  readonly privilegedPortOffset?: number;
  /** Called once per finished request with what happened to it (route, cluster, flags, timings). */
  readonly accessLog?: AccessLogSink;
  /** Tracing (spans to an OTLP collector, trace headers rewritten per hop); absent: trace headers pass untouched. */
  readonly tracing?: TracingOptions;
  /** Standard metrics' identity and the access log (`accessLogPath`: a file, or `-` for stdout). */
  readonly telemetry?: TelemetryOptions;
}

const DEFAULT_DRAIN_MS = 5_000;
/** Istio's listener names, bound to the sidecar's outbound/inbound ports. */
const OUTBOUND_LISTENER = 'virtualOutbound';
const INBOUND_LISTENER = 'virtualInbound';
const KINDS: readonly ResourceKind[] = ['cluster', 'endpoint', 'listener', 'route'];

/**
 * The sidecar's data path: compiles each accepted config into an immutable snapshot and swaps it in;
 * listeners, routes and clusters follow. `apply` is also the xDS client's validation: one compile decides
 * ACK/NACK and, when accepted, is the config that runs.
 */
export class Sidecar {
  private snapshot: DataPlaneSnapshot;
  private ready = false;
  private started = false;
  private closed = false;
  private readonly pools = new UpstreamPools();
  private readonly clusterManager: ClusterManager;
  private readonly listeners: ListenerManager;
  private readonly admin: SmallHttpServer;
  private readonly health: SmallHttpServer;
  private readonly metricsServer: SmallHttpServer | null;
  readonly telemetry: SidecarTelemetry;
  private readonly log: (msg: string) => void;
  private readonly tracer: Tracer | null;
  private updated: Record<ResourceKind, Date | null> = { cluster: null, endpoint: null, listener: null, route: null };

  constructor(private readonly options: SidecarOptions) {
    this.log = options.log ?? (() => undefined);
    this.tracer = options.tracing ? new Tracer(options.tracing) : null;
    this.clusterManager = new ClusterManager(this.pools, this.log);
    this.listeners = new ListenerManager((c) => this.bindFor(c), this.log, options.privilegedPortOffset ?? null);
    this.snapshot = { config: compileConfig(EMPTY_SNAPSHOT), clusters: new Map() };
    const pools = this.pools;
    this.admin = adminServer(options.adminAddress ?? options.podIp, options.ports.admin, {
      isReady: () => this.ready,
      raw: () => this.snapshot.config.raw,
      lastUpdated: (): LastUpdated => ({ ...this.updated }),
      clusters: () => this.snapshot.clusters,
      listeners: () => this.listeners.list(),
      pools,
    });
    this.health = healthServer(options.podIp, options.ports.health, () => this.ready);
    this.telemetry = new SidecarTelemetry(options.telemetry ?? {}, () => this.snapshot.clusters, options.accessLog, this.log);
    const metricsPort = options.ports.metrics;
    this.metricsServer = metricsPort === undefined ? null : metricsServer(options.podIp, metricsPort, this.telemetry.registry);
  }

  /**
   * Compiles and swaps in a config. Throws ConfigRejected (and keeps serving the previous snapshot) when
   * the config can't run. Requests already in flight finish on the snapshot they started with.
   */
  apply(raw: RawSnapshot): CompiledConfig {
    if (this.closed) throw new Error('sidecar is closed');
    const config = compileConfig(raw, { tracer: this.tracer });
    const previous = this.snapshot.config.raw;
    const clusters = this.clusterManager.update(config.clusters);
    this.snapshot = { config, clusters };
    const now = new Date();
    for (const kind of KINDS) if (raw.versions[kind] !== previous.versions[kind]) this.updated[kind] = now;
    if (this.started) this.reconcileListeners();
    return config;
  }

  /** Marks the first complete config as applied: /ready and /healthz/ready turn 200. */
  setReady(): void {
    this.ready = true;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The snapshot new requests run against. */
  get current(): DataPlaneSnapshot {
    return this.snapshot;
  }

  /** Starts the admin and health servers and the listeners of the current config. */
  async start(): Promise<void> {
    await Promise.all([this.admin.listen(), this.health.listen(), this.metricsServer?.listen()]);
    // Sampling on: the span sink is needed soon, so load it before traffic; at 0% only a sampled caller loads it.
    if (this.tracer !== null && this.tracer.samplingPercent > 0) await this.tracer.load();
    this.started = true;
    this.reconcileListeners();
    await this.listeners.settled();
  }

  /** Resolves once listeners started by the last apply() are bound (or have failed to bind). */
  settled(): Promise<void> {
    return this.listeners.settled();
  }

  /** Where a listener actually listens (its real port when configured with 0). */
  listenerAddress(name: string): SocketAddress | undefined {
    return this.listeners.get(name)?.address();
  }

  adminAddress(): SocketAddress {
    const a = this.admin.address();
    return { address: a.address, port: a.port };
  }

  /** Where /stats/prometheus is served, or null without a metrics port. */
  metricsAddress(): SocketAddress | null {
    const a = this.metricsServer?.address();
    return a ? { address: a.address, port: a.port } : null;
  }

  healthAddress(): SocketAddress {
    const a = this.health.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Graceful stop: not ready any more, listeners stop accepting and in-flight requests get `drainMs` to
   * finish; then upstream pools close (forcibly after the same bound) and the admin servers stop.
   */
  async close(drainMs = DEFAULT_DRAIN_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    await this.listeners.close(drainMs);
    this.clusterManager.close();
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.pools.destroyAll();
        resolve();
      }, drainMs);
    });
    await Promise.race([this.pools.closeAll(), forced]);
    clearTimeout(timer);
    await Promise.all([this.admin.close(), this.health.close(), this.tracer?.close(), this.metricsServer?.close(), this.telemetry.close()]);
  }

  private reconcileListeners(): void {
    const snapshot = this.snapshot;
    this.listeners.reconcile(snapshot.config.listeners, (config) => this.contextFor(config, snapshot));
  }

  private contextFor(config: ListenerConfig, snapshot: DataPlaneSnapshot): ListenerContext {
    return {
      listenerName: config.name,
      hcm: config.hcm,
      tls: config.tls,
      snapshot,
      pools: this.pools,
      onStreamComplete: this.telemetry.sinksFor(config.hcm.accessLogs),
      direction: config.trafficDirection !== 'UNSPECIFIED' ? config.trafficDirection : config.name === INBOUND_LISTENER ? 'INBOUND' : 'OUTBOUND',
      peerMetadata: this.telemetry.peerMetadata,
    };
  }

  /**
   * Listeners bind to the pod IP (a wildcard address in the config means "the pod"); Istio's outbound and
   * inbound listeners take the sidecar's configured ports.
   */
  private bindFor(config: ListenerConfig): SocketAddress {
    const { ports, podIp } = this.options;
    const wildcard = config.address.address === '0.0.0.0' || config.address.address === '::' || config.address.address === '';
    const address = wildcard ? podIp : config.address.address;
    if (config.name === OUTBOUND_LISTENER) return { address, port: ports.outbound };
    if (config.name === INBOUND_LISTENER) return { address, port: ports.inbound };
    return { address, port: config.address.port };
  }
}
