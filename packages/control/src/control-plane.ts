import { Registry as MetricsRegistry } from 'prom-client';
import type { ResourceKind } from '@trellis/envoy-api';
import { DirectorySource, type FileStatus } from './sources/directory-source.js';
import { parseConfigText } from './model/parse.js';
import { analyzeObjects } from './model/analyze.js';
import type { MeshConfig } from './model/mesh-config.js';
import { WorkloadStore } from './registry/workload-store.js';
import { buildRegistry } from './registry/build.js';
import { parseNode, workloadFromProxy, type ProxyIdentity } from './registry/proxy-identity.js';
import type { RegistrySnapshot } from './registry/types.js';
import { generateResources } from './translate/index.js';
import { XdsServer, XdsMetrics, type ConnectionEvent } from './xds/index.js';
import { startDebugServer } from './debug/server.js';
import { startApiServer } from './api/server.js';
import type { LocalCluster } from './local/local-cluster.js';
import { startCollectorServer, type CollectorServer } from './telemetry/collector-server.js';
import { TraceStore } from './telemetry/trace-store.js';

export interface ControlPlaneOptions {
  /** Folder of Kubernetes manifests and Istio config. */
  configDir: string;
  /** xDS gRPC (Istio: 15010). */
  xdsHost?: string;
  xdsPort?: number;
  /** Metrics and debug (Istio: 15014). */
  debugHost?: string;
  debugPort?: number;
  /** The UI's and CLI's API (Trellis: 20001); the host defaults to debugHost's. */
  apiHost?: string;
  apiPort?: number;
  /**
   * The trace collector's OTLP/HTTP port (the CLI's default is 4318, OTLP's standard port; 0 picks a free
   * one); unset or null runs no collector. Its host defaults to the API's. The API serves its spans at
   * /api/v1/traces.
   */
  collectorHost?: string;
  collectorPort?: number | null;
  /** Quiet time before reloading files and before pushing to proxies. */
  debounceMs?: number;
  log?: (msg: string) => void;
}

/** One consistent pair of inputs for translation; replaced whole when either side changes. */
interface MeshState {
  config: MeshConfig;
  registry: RegistrySnapshot;
}

/**
 * The istiod of Trellis: config source -> model -> registry -> translate -> xDS, plus the debug port.
 * Proxies that connect are registered as workloads (auto-registration) and removed when their stream ends.
 */
export class ControlPlane {
  readonly workloads = new WorkloadStore();
  /** Local mode's pods, once `trellis up` attaches them; the API lists them. */
  localCluster: LocalCluster | undefined;
  private state: MeshState | undefined;
  /** The collector's spans (bounded); undefined when it runs no collector. */
  readonly traces: TraceStore | undefined;
  /** Where the collector listens; null when there is none. */
  readonly collectorPort: number | null;
  private collector: CollectorServer | undefined;

  private constructor(
    readonly metrics: MetricsRegistry,
    private readonly xdsMetrics: XdsMetrics,
    readonly source: DirectorySource,
    readonly xds: XdsServer,
    readonly xdsPort: number,
    readonly debugPort: number,
    private readonly closeDebug: () => Promise<void>,
    readonly apiPort: number,
    private readonly closeApi: () => Promise<void>,
    collector: { server: CollectorServer; store: TraceStore } | undefined,
  ) {
    this.traces = collector?.store;
    this.collector = collector?.server;
    this.collectorPort = collector?.server.port ?? null;
  }

  static async start(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const log = opts.log ?? (() => {});
    const debounceMs = opts.debounceMs ?? 100;
    const source = new DirectorySource(opts.configDir, { parse: parseConfigText, analyze: analyzeObjects, debounceMs, log });
    await source.start();

    let plane: ControlPlane | undefined;
    const metrics = new MetricsRegistry();
    const xdsMetrics = new XdsMetrics(metrics, () => {
      const mesh = plane?.mesh();
      return mesh && { services: mesh.registry.services.length, virtualServices: mesh.config.virtualServices.length };
    });
    const xds = new XdsServer({
      generate: (proxy: ProxyIdentity, kind: ResourceKind, names: readonly string[] | null) =>
        generateResources({ ...plane!.mesh(), proxy }, kind, names),
      identify: parseNode,
      debounceMs,
      metrics: xdsMetrics,
      log,
    });
    const xdsPort = await xds.listen(opts.xdsHost ?? '0.0.0.0', opts.xdsPort ?? 15010);
    const debug = await startDebugServer({
      host: opts.debugHost ?? '0.0.0.0',
      port: opts.debugPort ?? 15014,
      xds,
      registry: metrics,
      configStatus: () => plane!.configStatus(),
    });
    const apiHost = opts.apiHost ?? opts.debugHost ?? '0.0.0.0';
    const store = opts.collectorPort === null || opts.collectorPort === undefined ? undefined : new TraceStore();
    const collector = store && { store, server: await startCollectorServer({ host: opts.collectorHost ?? apiHost, port: opts.collectorPort!, store }) };
    const api = await startApiServer({
      host: apiHost,
      port: opts.apiPort ?? 20001,
      cluster: () => plane?.localCluster,
      plane: { source },
      ...(store ? { traces: store } : {}),
    });
    plane = new ControlPlane(metrics, xdsMetrics, source, xds, xdsPort, debug.port, () => debug.close(), api.port, () => api.close(), collector);
    plane.wire(log);
    log(`control plane: config ${opts.configDir}, xDS :${xdsPort}, debug :${debug.port}, api :${api.port}${collector ? `, OTLP traces :${collector.server.port}` : ''}`);
    return plane;
  }

  /** The current config and registry, built at most once per change. */
  mesh(): MeshState {
    this.state ??= {
      config: this.source.current(),
      registry: buildRegistry(this.source.current(), this.workloads.list()),
    };
    return this.state;
  }

  configStatus(): { files: FileStatus[]; errors: number; warnings: number; objects: number } {
    const files = this.source.status();
    const issues = this.source.current().issues;
    return {
      files,
      errors: issues.filter((i) => i.severity === 'error').length,
      warnings: issues.filter((i) => i.severity === 'warning').length,
      objects: this.source.current().objects.length,
    };
  }

  async close(): Promise<void> {
    this.source.close();
    await this.xds.close();
    await this.closeDebug();
    await this.closeApi();
    await this.collector?.close();
  }

  private wire(log: (msg: string) => void): void {
    const invalidate = (reason: string) => {
      this.state = undefined;
      this.xds.push(reason);
    };
    this.xdsMetrics.setConfigIssues(this.source.current().issues);
    this.source.on('change', (config) => {
      this.xdsMetrics.setConfigIssues(config.issues);
      invalidate('config');
    });
    this.workloads.on('change', () => invalidate('registry'));
    this.xds.on('connect', (proxy: ProxyIdentity) => {
      const w = workloadFromProxy(proxy);
      if (w) this.workloads.upsert(w);
      log(`proxy connected: ${proxy.id}`);
    });
    // A proxy that reconnects may open its new stream before the old one ends: keep it registered.
    this.xds.on('disconnect', (proxy: ProxyIdentity, info: ConnectionEvent) => {
      const w = workloadFromProxy(proxy);
      if (w && info.otherConnections === 0) this.workloads.remove(w.uid);
      log(`proxy disconnected: ${proxy.id}`);
    });
  }
}
