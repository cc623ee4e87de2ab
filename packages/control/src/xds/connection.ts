import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  encodeAny,
  kindOfTypeUrl,
  RESOURCE_KINDS,
  TYPE_URL,
  type AnyMessage,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type Node,
  type ResourceKind,
} from '@trellis/envoy-api';
import type { ProxyIdentity } from '../registry/proxy-identity.js';
import type { NamedResource } from '../translate/types.js';
import { metricType, type XdsMetrics } from './metrics.js';
import type { ProxyStatus } from './status.js';
import { contentVersion, type NonceSource } from './versions.js';
import {
  isWildcardKind,
  requestedNames,
  sameSubscription,
  unsubscribedStatus,
  WatchedResource,
} from './watched-resource.js';

/** Generates one type's resources for one proxy; `names === null` is a wildcard subscription. */
export type GenerateFn = (proxy: ProxyIdentity, kind: ResourceKind, names: readonly string[] | null) => NamedResource[];

export type AdsStream = ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;

/** What every connection shares with its server. */
export interface ConnectionContext {
  generate: GenerateFn;
  metrics?: XdsMetrics;
  log: (msg: string) => void;
  nonces: NonceSource;
  controlPlaneId: string;
}

/** Why a response is being built: a proxy asked (always answer), or a push (answer only if changed). */
type Trigger = 'request' | 'push';

/**
 * One ADS stream: its proxy, and per type what was subscribed, sent, ACKed and NACKed. Every method runs
 * to completion synchronously (generation, encoding and the write), so a push and a request for the same
 * stream can never interleave, and responses reach the stream in the order they were decided.
 */
export class XdsConnection {
  readonly connectedAt = new Date();
  private readonly watches = new Map<ResourceKind, WatchedResource>();
  private closed = false;

  constructor(
    readonly id: string,
    readonly proxy: ProxyIdentity,
    readonly node: Node,
    private readonly call: AdsStream,
    private readonly ctx: ConnectionContext,
  ) {}

  get peer(): string {
    try {
      return this.call.getPeer();
    } catch {
      return 'unknown';
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Applies the xDS state-of-the-world ACK/NACK rules to one request, answering when they say so. */
  handleRequest(req: DiscoveryRequest): void {
    const kind = kindOfTypeUrl(req.type_url);
    if (!kind) {
      this.ctx.log(`ADS ${this.proxy.id}: ignoring request for unsupported type ${req.type_url || '(none)'}`);
      return;
    }
    const type = metricType(kind);
    const watch = this.watches.get(kind);
    const nonce = req.response_nonce;

    // A nonce older than the last response means the proxy hasn't seen that response yet: it will
    // answer it separately, so this request says nothing about the current state.
    if (nonce && watch?.sent && nonce !== watch.sent.nonce) {
      this.ctx.metrics?.expiredNonces.inc({ type });
      this.ctx.log(`ADS ${this.proxy.id}: ${type} expired nonce ${nonce} (last sent ${watch.sent.nonce}), ignored`);
      return;
    }

    if (req.error_detail) {
      this.handleNack(kind, watch, nonce, req.error_detail.message, req.error_detail.code ?? 0);
      return;
    }

    const names = requestedNames(kind, req.resource_names);
    if (names !== null && names.length === 0 && !isWildcardKind(kind)) {
      // RDS/EDS with no names: the proxy dropped its last route/cluster of this type. Nothing to send.
      if (watch) this.ctx.log(`ADS ${this.proxy.id}: ${type} unsubscribed`);
      this.watches.delete(kind);
      return;
    }

    if (nonce && watch?.sent) {
      watch.recordAck(req.version_info, nonce);
      this.ctx.metrics?.clearRejects(type, this.proxy.id);
      if (sameSubscription(watch.names, names)) return;
    }

    // First request for the type on this stream, or a changed subscription: answer with the new set.
    const w = watch ?? new WatchedResource(kind);
    w.names = names;
    this.watches.set(kind, w);
    this.respond(w, 'request');
  }

  /**
   * Recomputes every subscribed type (in CDS, EDS, LDS, RDS order) and sends those whose version changed.
   * Returns how many responses were sent.
   */
  push(): number {
    let sent = 0;
    for (const kind of RESOURCE_KINDS) {
      const watch = this.watches.get(kind);
      if (watch && this.respond(watch, 'push')) sent += 1;
    }
    return sent;
  }

  status(): ProxyStatus {
    const types = Object.fromEntries(
      RESOURCE_KINDS.map((k) => [k, this.watches.get(k)?.status() ?? unsubscribedStatus(k)]),
    ) as ProxyStatus['types'];
    const { namespace, podName, type, workloadName } = this.proxy;
    return {
      id: this.proxy.id,
      connectionId: this.id,
      peer: this.peer,
      identity: { namespace, podName, type, workloadName },
      connectedAt: this.connectedAt.toISOString(),
      types,
    };
  }

  /** Ends the stream with OK (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call.end();
    } catch (err) {
      this.ctx.log(`ADS ${this.proxy.id}: error ending stream: ${errorMessage(err)}`);
    }
  }

  /** Marks the stream gone (the proxy went away); later pushes skip it. */
  markClosed(): void {
    this.closed = true;
  }

  private handleNack(kind: ResourceKind, watch: WatchedResource | undefined, nonce: string, message: string, code: number): void {
    const type = metricType(kind);
    this.ctx.metrics?.recordReject(type, this.proxy.id, code);
    if (!watch?.sent) {
      // Not about anything sent on this stream (e.g. config from a previous control plane): nothing to record.
      this.ctx.log(`ADS ${this.proxy.id}: ${type} NACK for a response not sent on this stream: ${message}`);
      return;
    }
    // Keep the ACKed version and don't resend: the same content would be rejected again. The next
    // push whose content differs is sent as usual.
    watch.recordNack(nonce, message);
    this.ctx.log(`ADS ${this.proxy.id}: ${type} NACK of version ${watch.sent.version} (nonce ${nonce}): ${message}`);
  }

  /** Builds and writes one response. On a push, an unchanged version isn't sent. Returns whether it wrote. */
  private respond(watch: WatchedResource, trigger: Trigger): boolean {
    if (this.closed) return false;
    const started = process.hrtime.bigint();
    const type = metricType(watch.kind);
    const resources = this.build(watch);
    if (!resources) return false;
    const version = contentVersion(resources.map(({ name, any }) => ({ name, value: any.value })));
    if (trigger === 'push' && version === watch.sent?.version) return false;

    const nonce = this.ctx.nonces.next();
    const response: DiscoveryResponse = {
      version_info: version,
      resources: resources.map((r) => r.any),
      type_url: watch.typeUrl,
      nonce,
      control_plane: { identifier: this.ctx.controlPlaneId },
    };
    try {
      this.call.write(response);
    } catch (err) {
      this.ctx.metrics?.pushes.inc({ type: `${type}_senderr` });
      this.ctx.log(`ADS ${this.proxy.id}: ${type} send failed: ${errorMessage(err)}`);
      return false;
    }
    watch.recordSent(version, nonce, resources.length);
    this.ctx.metrics?.pushes.inc({ type });
    if (this.ctx.metrics) {
      let bytes = 0;
      for (const r of resources) bytes += r.any.value.length;
      this.ctx.metrics.configSize.observe({ type }, bytes);
    }
    this.ctx.metrics?.pushTime.observe({ type }, Number(process.hrtime.bigint() - started) / 1e9);
    return true;
  }

  /**
   * Generates and packs the subscribed resources. A resource that won't encode is a translation bug:
   * it is logged, counted and left out, and the proxy still gets everything else.
   */
  private build(watch: WatchedResource): { name: string; any: AnyMessage }[] | undefined {
    const type = metricType(watch.kind);
    let generated: NamedResource[];
    try {
      generated = this.ctx.generate(this.proxy, watch.kind, watch.names);
    } catch (err) {
      this.ctx.metrics?.pushes.inc({ type: `${type}_builderr` });
      this.ctx.metrics?.internalErrors.inc();
      this.ctx.log(`ADS ${this.proxy.id}: ${type} generation failed, nothing sent: ${errorMessage(err)}`);
      return undefined;
    }
    const packed: { name: string; any: AnyMessage }[] = [];
    for (const r of generated) {
      try {
        packed.push({ name: r.name, any: encodeAny(TYPE_URL[watch.kind], r.resource) });
      } catch (err) {
        this.ctx.metrics?.pushes.inc({ type: `${type}_builderr` });
        this.ctx.metrics?.internalErrors.inc();
        this.ctx.log(`ADS ${this.proxy.id}: ${type} resource ${r.name} skipped, it doesn't encode: ${errorMessage(err)}`);
      }
    }
    return packed;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
