import { EventEmitter } from 'node:events';
import { Server, ServerCredentials, status as GrpcStatus, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { adsServiceDefinition, type DiscoveryRequest, type Node } from '@trellis/envoy-api';
import type { ProxyIdentity } from '../registry/proxy-identity.js';
import { errorMessage, XdsConnection, type AdsStream, type ConnectionContext, type GenerateFn } from './connection.js';
import type { XdsMetrics } from './metrics.js';
import { PushDebouncer } from './push-debouncer.js';
import { syncState, type ProxyStatus, type SyncFacts, type SyncState } from './status.js';
import { NonceSource } from './versions.js';

export type IdentifyFn = (node: Node) => ProxyIdentity;

export interface XdsServerOptions {
  generate: GenerateFn;
  /** Turns the node of a stream's first request into an identity; throwing rejects the stream. */
  identify: IdentifyFn;
  /** Quiet time after the last push() before pushing (Istio's PILOT_DEBOUNCE_AFTER). Default 100. */
  debounceMs?: number;
  /** Longest a push may be held back by a stream of push() calls (PILOT_DEBOUNCE_MAX). Default 10000. */
  debounceMaxMs?: number;
  metrics?: XdsMetrics;
  log?: (msg: string) => void;
  /** Sent as DiscoveryResponse.control_plane.identifier. Default "trellis". */
  controlPlaneId?: string;
}

/** Facts about a stream that come and go, for whoever registers proxies as endpoints. */
export interface ConnectionEvent {
  connectionId: string;
  peer: string;
  /**
   * Other open streams of the same node id. A proxy that reconnects can briefly hold two; a disconnect
   * with other connections left doesn't mean the proxy is gone.
   */
  otherConnections: number;
}

export interface XdsServerEvents {
  connect: [proxy: ProxyIdentity, info: ConnectionEvent];
  disconnect: [proxy: ProxyIdentity, info: ConnectionEvent];
}

export interface PushSummary {
  reasons: string[];
  proxies: number;
  /** Responses written (types whose version changed). */
  responses: number;
}

/**
 * Serves Envoy's Aggregated Discovery Service (state of the world) over gRPC: one XdsConnection per
 * stream, resources from the `generate` callback, debounced pushes to every connected proxy.
 */
export class XdsServer extends EventEmitter<XdsServerEvents> {
  /** istioctl's SYNCED / STALE / NOT SENT for one type's status. */
  static syncState(t: SyncFacts): SyncState {
    return syncState(t);
  }

  private readonly connections = new Map<string, XdsConnection>();
  private readonly ctx: ConnectionContext;
  private readonly identify: IdentifyFn;
  private readonly metrics?: XdsMetrics;
  private readonly log: (msg: string) => void;
  private readonly debouncer: PushDebouncer<PushSummary>;
  private grpc?: Server;
  private nextConnection = 0;

  constructor(options: XdsServerOptions) {
    super();
    this.identify = options.identify;
    this.metrics = options.metrics;
    this.log = options.log ?? ((msg) => process.stderr.write(`xds: ${msg}\n`));
    this.ctx = {
      generate: options.generate,
      metrics: options.metrics,
      log: this.log,
      nonces: new NonceSource(),
      controlPlaneId: options.controlPlaneId ?? 'trellis',
    };
    this.debouncer = new PushDebouncer(options.debounceMs ?? 100, options.debounceMaxMs ?? 10_000, (reasons, since) =>
      this.flush(reasons, since),
    );
  }

  /** Binds host:port (port 0 picks a free one) and starts serving; resolves to the bound port. */
  async listen(host: string, port: number): Promise<number> {
    if (this.grpc) throw new Error('XdsServer is already listening');
    const server = new Server();
    server.addService(adsServiceDefinition(), this.implementation());
    this.grpc = server;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** Ends every stream with OK and shuts the gRPC server down, forcing it after a short grace period. */
  async close(): Promise<void> {
    this.debouncer.cancel();
    for (const conn of this.connections.values()) conn.end();
    const server = this.grpc;
    this.grpc = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 500);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** Schedules a recompute for every connected proxy, coalescing calls within the debounce window. */
  push(reason = 'unknown'): void {
    this.metrics?.pushTriggers.inc({ type: reason });
    this.debouncer.trigger(reason);
  }

  /** Pushes at once (pending debounced reasons included); for tests and shutdown paths. */
  pushNow(reason = 'unknown'): PushSummary {
    this.metrics?.pushTriggers.inc({ type: reason });
    return this.debouncer.flushNow(reason);
  }

  status(): ProxyStatus[] {
    return [...this.connections.values()]
      .map((c) => c.status())
      .sort((a, b) => a.id.localeCompare(b.id) || a.connectionId.localeCompare(b.connectionId));
  }

  /** Identities of the proxies with an open stream. */
  proxies(): ProxyIdentity[] {
    return [...this.connections.values()].map((c) => c.proxy);
  }

  private flush(reasons: string[], since: bigint): PushSummary {
    let responses = 0;
    let proxies = 0;
    for (const conn of this.connections.values()) {
      if (conn.isClosed) continue;
      proxies += 1;
      const sent = conn.push();
      responses += sent;
      if (sent > 0) this.metrics?.convergenceTime.observe(Number(process.hrtime.bigint() - since) / 1e9);
    }
    return { reasons, proxies, responses };
  }

  private implementation(): UntypedServiceImplementation {
    return { StreamAggregatedResources: (call: AdsStream) => this.serveStream(call) };
  }

  /** The stream's first request names the node; from then on its XdsConnection handles every request. */
  private serveStream(call: AdsStream): void {
    const connectionId = `c${++this.nextConnection}`;
    let conn: XdsConnection | undefined;
    let rejected = false;

    call.on('data', (req: DiscoveryRequest) => {
      if (rejected) return;
      try {
        conn ??= this.open(connectionId, call, req);
        if (!conn) rejected = true;
        conn?.handleRequest(req);
      } catch (err) {
        this.log(`ADS ${conn?.proxy.id ?? connectionId}: request failed: ${errorMessage(err)}`);
      }
    });
    const gone = () => {
      if (conn) this.drop(conn);
    };
    call.on('end', () => {
      // The proxy half-closed: finish our side too so the RPC completes.
      gone();
      if (conn) conn.end();
      else if (!rejected) call.end();
    });
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', (err) => {
      this.log(`ADS ${conn?.proxy.id ?? connectionId}: stream error: ${errorMessage(err)}`);
      gone();
    });
  }

  /** Identifies the proxy and registers the connection; a stream with no usable node is rejected. */
  private open(connectionId: string, call: AdsStream, first: DiscoveryRequest): XdsConnection | undefined {
    const node = first.node;
    let proxy: ProxyIdentity;
    try {
      if (!node?.id) throw new Error('missing node information');
      proxy = this.identify(node);
    } catch (err) {
      this.log(`ADS ${connectionId}: rejecting stream: ${errorMessage(err)}`);
      call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: errorMessage(err) });
      return undefined;
    }
    const conn = new XdsConnection(connectionId, proxy, node, call, this.ctx);
    this.connections.set(connectionId, conn);
    this.metrics?.connectedProxies.set(this.connections.size);
    this.log(`ADS ${proxy.id}: connected (${connectionId} from ${conn.peer})`);
    this.emitSafely('connect', conn);
    return conn;
  }

  private drop(conn: XdsConnection): void {
    conn.markClosed();
    if (!this.connections.delete(conn.id)) return;
    this.metrics?.connectedProxies.set(this.connections.size);
    if (![...this.connections.values()].some((c) => c.proxy.id === conn.proxy.id)) this.metrics?.forgetNode(conn.proxy.id);
    this.log(`ADS ${conn.proxy.id}: disconnected (${conn.id})`);
    this.emitSafely('disconnect', conn);
  }

  /** A listener's bug must not take the stream (or the server) down with it. */
  private emitSafely(event: 'connect' | 'disconnect', conn: XdsConnection): void {
    const otherConnections = [...this.connections.values()].filter(
      (c) => c !== conn && c.proxy.id === conn.proxy.id,
    ).length;
    try {
      this.emit(event, conn.proxy, { connectionId: conn.id, peer: conn.peer, otherConnections });
    } catch (err) {
      this.log(`ADS ${conn.proxy.id}: ${event} listener failed: ${errorMessage(err)}`);
    }
  }
}
