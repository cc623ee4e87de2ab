import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { computeRequestHash, type RequestHash } from '../cluster/hash/hash-policy.js';
import type { LoadBalancerContext } from '../cluster/load-balancer.js';
import type { HttpConnectionManagerConfig } from '../config/compiled-config.js';
import { applyHeaderMutations, type HeaderMap, type HeaderMutations } from '../router/header-mutations.js';
import { parseQuery } from '../router/route-request.js';
import type { RouteEntry, RouteFilterConfig, WeightedCluster } from '../router/route.js';
import type { VirtualHost } from '../router/virtual-host.js';
import { chosenWeightedCluster } from '../router/weighted-clusters.js';
import type { RequestBody } from '../upstream/connection-pool.js';
import type { DataPlaneSnapshot, ListenerContext } from './data-plane.js';
import { STATUS_CODES } from 'node:http';
import { Http1ServerResponse } from './http1/server-response.js';
import { ResponseFlag, StreamInfo } from './stream-info.js';

/** The parts of ServerResponse / Http2ServerResponse the stream drives. */
export interface DownstreamResponse extends EventEmitter {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  statusCode: number;
  setHeader(name: string, value: string | string[]): unknown;
  writeHead(status: number, headers: HeaderMap): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(trailers: HeaderMap): void;
  destroy(err?: Error): unknown;
}

/** What the router attaches to a stream: the in-flight upstream request, told about the downstream. */
export interface StreamUpstream {
  /** The downstream went away or the stream was reset: cancel upstream work. */
  abort(): void;
  /** The downstream drained after a write returned false. */
  resume(): void;
}

/** Told once the downstream request has fully arrived (see whenRequestComplete). */
export interface RequestCompleteListener {
  onRequestComplete(): void;
}

/** Told once the stream is over (completed, reset, or the client went away). */
export interface StreamCompleteHook {
  onStreamComplete(stream: ActiveStream): void;
}

/** The request line and headers a stream starts from, parsed by the connection manager. */
export interface RequestHead {
  readonly method: string;
  readonly authority: string;
  readonly scheme: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly protocol: 'HTTP/1.1' | 'HTTP/2';
  readonly remoteAddress: string;
  /** The upgrade asked for (lower-case, e.g. `websocket`), or null. */
  readonly upgradeType: string | null;
}

/** A request body that counts what it read (the HTTP/1 codec's body, the HTTP/2 listener's request). */
interface CountedBody {
  readonly bytesReceived?: number;
}

const kStream = Symbol('trellis.stream');
const NO_HASH: RequestHash = { hash: null, setCookie: null };
type Tagged<T> = T & { [kStream]?: ActiveStream };

/**
 * One downstream request on its way through the HTTP connection manager (Envoy's ActiveStream): the
 * request as routing sees it, the route chosen, the filter chain position, and the downstream response.
 * Filters and the router drive it; it owns the downstream side and records what happened in `info`.
 */
export class ActiveStream implements LoadBalancerContext {
  readonly info = new StreamInfo();
  readonly method: string;
  readonly authority: string;
  readonly scheme: string;
  readonly path: string;
  readonly pathNoQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly upgradeType: string | null;
  readonly snapshot: DataPlaneSnapshot;
  readonly hcm: HttpConnectionManagerConfig;
  virtualHost: VirtualHost | null = null;
  route: RouteEntry | null = null;
  /** Response header edits of the weighted cluster the router picked (applied before the route's). */
  clusterResponseMutations: HeaderMutations | null = null;
  /** The weighted cluster picked for this request (once, by the first stage that needs it), or null. */
  weightedCluster: WeightedCluster | null = null;
  /** CORS filter: the request's allowed Origin, echoed on the response; null when not a CORS request. */
  corsOrigin: string | null = null;
  /** CORS filter: the policy that allowed it (credentials and exposed headers go on the response). */
  corsPolicy: object | null = null;
  /** The route's hash_policy result, computed on the first hashKey() call; undefined until then. */
  lbHash: RequestHash | undefined = undefined;
  private upstream: StreamUpstream | null = null;
  private query: Map<string, string> | null = null;
  private filterIndex = 0;
  private completed = false;
  private replied = false;
  private requestDone: boolean;
  private onRequestDone: RequestCompleteListener | null = null;
  private completeHooks: StreamCompleteHook[] | null = null;

  constructor(
    readonly ctx: ListenerContext,
    head: RequestHead,
    /** The request body, or null when the request has none. */
    readonly body: RequestBody | null,
    private readonly res: DownstreamResponse | null,
    /** For an upgrade: the raw downstream socket and the bytes already read past the head. */
    readonly upgradeSocket: Duplex | null = null,
    readonly upgradeHead: Buffer | null = null,
  ) {
    this.snapshot = ctx.snapshot;
    this.hcm = ctx.hcm;
    this.method = head.method;
    this.authority = head.authority;
    this.scheme = head.scheme;
    this.path = head.path;
    const q = head.path.indexOf('?');
    this.pathNoQuery = q < 0 ? head.path : head.path.slice(0, q);
    this.headers = head.headers;
    this.remoteAddress = head.remoteAddress;
    this.upgradeType = head.upgradeType;
    // A body that arrived whole with the head is done already; nobody may ever read it as a stream.
    const whole = body !== null && body.wholeBody != null;
    this.requestDone = body === null || whole;
    const info = this.info;
    info.protocol = head.protocol;
    info.listenerName = ctx.listenerName;
    info.downstreamRemoteAddress = head.remoteAddress;
    if (res) {
      (res as Tagged<DownstreamResponse>)[kStream] = this; // for 'drain'
      if (res instanceof Http1ServerResponse) res.closeListener = this;
      else res.once('close', onResponseClose);
    } else if (upgradeSocket) {
      (upgradeSocket as Tagged<Duplex>)[kStream] = this;
      upgradeSocket.on('error', noop);
    }
    if (body && !whole) {
      (body as Tagged<RequestBody>)[kStream] = this;
      body.once('end', onBodyEnd);
    }
  }

  /** LoadBalancerContext: the request's hash key (hashing balancers ask; computed once per request). */
  hashKey(): bigint | null {
    if (this.lbHash === undefined) {
      const route = this.route;
      const policy = route !== null && route.action.kind === 'forward' ? route.action.hashPolicy : null;
      this.lbHash = policy === null ? NO_HASH : computeRequestHash(policy, this);
    }
    return this.lbHash.hash;
  }

  queryParams(): ReadonlyMap<string, string> {
    if (this.query === null) {
      const q = this.path.indexOf('?');
      this.query = parseQuery(q < 0 ? '' : this.path.slice(q + 1));
    }
    return this.query;
  }

  /**
   * The compiled `typed_per_filter_config` for a filter: the weighted cluster's (picking it now if it
   * carries any, as Envoy picks at route time), else the route's (which holds its virtual host's).
   */
  perFilterConfig(filterName: string): RouteFilterConfig | undefined {
    const route = this.route;
    if (route === null) return undefined;
    const action = route.action;
    if (action.kind === 'forward' && action.clusters.kind === 'weighted' && action.clusters.hasPerFilterConfig) {
      const own = chosenWeightedCluster(this, action.clusters).perFilterConfig.get(filterName);
      if (own !== undefined) return own;
    }
    return route.perFilterConfig.size === 0 ? undefined : route.perFilterConfig.get(filterName);
  }

  get isUpgrade(): boolean {
    return this.upgradeType !== null;
  }

  get responseStarted(): boolean {
    return this.res !== null && this.res.headersSent;
  }

  get isComplete(): boolean {
    return this.completed;
  }

  // --- filter chain ---------------------------------------------------------------------------------------

  /** Runs the request through the filter chain from where it stands. */
  decodeHeaders(): void {
    const chain = this.hcm.filterChain;
    while (this.filterIndex < chain.length && !this.replied && !this.completed) {
      const filter = chain[this.filterIndex++]!;
      if (filter.decodeHeaders(this) === 'stop') return;
    }
  }

  /** For a filter that returned `stop`: resume with the next filter. */
  continueDecoding(): void {
    if (!this.replied && !this.completed) this.decodeHeaders();
  }

  // --- request side -----------------------------------------------------------------------------------------

  /** Tells `listener` once the downstream request has fully arrived (at once when it has). One listener. */
  whenRequestComplete(listener: RequestCompleteListener): void {
    if (this.requestDone) listener.onRequestComplete();
    else this.onRequestDone = listener;
  }

  get requestComplete(): boolean {
    return this.requestDone;
  }

  /** Runs `hook` when the stream is over (e.g. to release a count held for the request's lifetime). */
  addCompleteHook(hook: StreamCompleteHook): void {
    if (this.completed) hook.onStreamComplete(this);
    else (this.completeHooks ??= []).push(hook);
  }

  attachUpstream(upstream: StreamUpstream | null): void {
    this.upstream = upstream;
  }

  // --- response side ----------------------------------------------------------------------------------------

  /**
   * Sends response headers downstream: encoder filters (reverse order), the weighted cluster's and the
   * route's response header edits, then the Server header as the HCM says.
   */
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    const res = this.res!;
    const chain = this.hcm.filterChain;
    for (let i = chain.length - 1; i >= 0; i--) chain[i]!.encodeHeaders?.(this, status, headers);
    if (this.clusterResponseMutations) applyHeaderMutations(headers, [this.clusterResponseMutations]);
    const route = this.route;
    if (route !== null && route.responseHeaderMutations.length > 0) applyHeaderMutations(headers, route.responseHeaderMutations);
    this.serverHeader(headers);
    this.info.responseCode = status;
    const grpc = headers['grpc-status'];
    if (grpc !== undefined) this.info.grpcStatus = String(grpc); // a trailers-only gRPC response
    if (!endStream) {
      res.writeHead(status, headers);
      return;
    }
    // Headers and end together: on HTTP/2 this is one HEADERS frame with END_STREAM (a gRPC trailers-only
    // response must stay one), which writeHead followed by end would split.
    res.statusCode = status;
    for (const name in headers) res.setHeader(name, headers[name]!);
    res.end();
  }

  /** Returns false when the downstream is full: the upstream waits for `resume()`. */
  encodeData(chunk: Buffer): boolean {
    this.info.bytesSent += chunk.length;
    const ok = this.res!.write(chunk);
    if (!ok) this.res!.once('drain', onResponseDrain);
    return ok;
  }

  encodeTrailers(trailers: HeaderMap): void {
    const grpc = trailers['grpc-status'];
    if (grpc !== undefined) this.info.grpcStatus = String(grpc);
    if (!this.res!.writableEnded) this.res!.addTrailers(trailers);
  }

  endResponse(): void {
    if (!this.res!.writableEnded) this.res!.end();
  }

  /**
   * Answers here instead of upstream (Envoy's sendLocalReply). Once headers have gone out the only thing
   * left is to reset the stream.
   */
  sendLocalReply(status: number, body: string | Buffer, flag: number, details: string, extra?: HeaderMap): void {
    if (this.completed || this.replied) return;
    this.replied = true;
    const info = this.info;
    info.setFlag(flag);
    info.responseCodeDetails = details;
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.res === null) {
      this.rawLocalReply(status, payload, extra);
      return;
    }
    if (this.res.headersSent) {
      this.resetStream(0);
      return;
    }
    const headers: HeaderMap = { 'content-length': String(payload.length) };
    if (payload.length > 0) headers['content-type'] = 'text/plain';
    if (extra) Object.assign(headers, extra);
    if (payload.length === 0) {
      // Headers only: one HEADERS frame with END_STREAM on HTTP/2 (a gRPC trailers-only reply needs that).
      this.encodeHeaders(status, headers, true);
      return;
    }
    this.encodeHeaders(status, headers, false);
    this.res.end(payload);
  }

  /** Aborts the downstream stream (HTTP/1: the connection; HTTP/2: RST_STREAM). */
  resetStream(flag: number): void {
    this.info.setFlag(flag);
    const upstream = this.upstream;
    this.upstream = null;
    upstream?.abort();
    if (this.res) this.res.destroy();
    else this.upgradeSocket?.destroy();
    this.complete();
  }

  /** For upgrades: the spliced connection is over. */
  finishUpgrade(): void {
    this.complete();
  }

  private serverHeader(headers: HeaderMap): void {
    const mode = this.hcm.serverHeaderTransformation;
    if (mode === 'OVERWRITE' || (mode === 'APPEND_IF_ABSENT' && headers.server === undefined)) {
      headers.server = this.hcm.serverName;
    }
  }

  /** A local reply on a connection being upgraded: there is no response object, only the socket. */
  private rawLocalReply(status: number, payload: Buffer, extra?: HeaderMap): void {
    const socket = this.upgradeSocket;
    this.info.responseCode = status;
    if (socket && socket.writable) {
      let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\ncontent-length: ${payload.length}\r\n`;
      if (payload.length > 0) head += 'content-type: text/plain\r\n';
      head += `server: ${this.hcm.serverName}\r\nconnection: close\r\n`;
      if (extra) for (const [k, v] of Object.entries(extra)) head += `${k}: ${Array.isArray(v) ? v.join(', ') : v}\r\n`;
      socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload]));
    } else {
      socket?.destroy();
    }
    this.complete();
  }

  /** @internal The downstream response closed: finished, or the client went away first. */
  onDownstreamClose(): void {
    if (!this.res!.writableEnded) {
      this.info.setFlag(ResponseFlag.DC);
      const upstream = this.upstream;
      this.upstream = null;
      upstream?.abort();
    }
    this.complete();
  }

  /** @internal */
  onDrain(): void {
    this.upstream?.resume();
  }

  /** @internal */
  onBodyEnd(): void {
    this.requestDone = true;
    const listener = this.onRequestDone;
    this.onRequestDone = null;
    listener?.onRequestComplete();
  }

  private complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.info.durationMs = performance.now() - this.info.startMonotonic;
    const hooks = this.completeHooks;
    if (hooks !== null) {
      this.completeHooks = null;
      for (const h of hooks) h.onStreamComplete(this);
    }
    const sinks = this.ctx.onStreamComplete;
    if (sinks.length === 0) return;
    const body = this.body as CountedBody | null;
    if (body !== null) this.info.bytesReceived = body.bytesReceived ?? 0;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!(this.info, this);
      } catch {
        // A failing access log or metric must never take the data path down.
      }
    }
  }
}

function onResponseClose(this: Tagged<DownstreamResponse>): void {
  this[kStream]?.onDownstreamClose();
}

function onResponseDrain(this: Tagged<DownstreamResponse>): void {
  this[kStream]?.onDrain();
}

function onBodyEnd(this: Tagged<RequestBody>): void {
  this[kStream]?.onBodyEnd();
}

function noop(): void {}
