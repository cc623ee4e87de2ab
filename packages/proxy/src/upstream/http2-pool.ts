import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type {
  ConnectionPool,
  ConnectionPoolStats,
  RequestBody,
  ResetReason,
  UpstreamCallbacks,
  UpstreamRequestSpec,
  UpstreamStream,
} from './connection-pool.js';
import type { PoolSettings } from './pool-settings.js';
import { tlsConnectOptions } from './upstream-tls.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Streams a session has opened and still carries, and its idle timer. */
interface SessionState {
  opened: number;
  active: number;
  idleTimer: NodeJS.Timeout | null;
  /** Carried max_requests_per_connection streams: closes once they are done. */
  retired: boolean;
}

/**
 * HTTP/2 to one endpoint for one cluster, cleartext with prior knowledge (h2c) or over TLS (ALPN h2):
 * one multiplexed session, replaced when it fails, the upstream sends GOAWAY, or it has carried
 * max_requests_per_connection streams; closed after idle_timeout without streams. Trailers pass both
 * ways (gRPC): request trailers are sent once the downstream body has ended, response trailers are
 * handed to the router before the end.
 * Circuit breaking: max_requests caps the cluster's concurrent streams (overflow: 503 UO); streams are
 * never pending here (Node queues a stream on a session that is still connecting).
 */
export class Http2Pool implements ConnectionPool {
  readonly protocol = 'http2' as const;
  private session: ClientHttp2Session | null = null;
  private readonly sessions = new Set<ClientHttp2Session>();
  private closing = false;
  private cxTotal = 0;
  private cxConnectFail = 0;
  private readonly state = new Map<ClientHttp2Session, SessionState>();
  private readonly scheme: 'http' | 'https';

  constructor(
    private readonly origin: string,
    private readonly settings: PoolSettings,
  ) {
    this.scheme = settings.tls ? 'https' : 'http';
  }

  newStream(spec: UpstreamRequestSpec, callbacks: UpstreamCallbacks): UpstreamStream {
    const handle = new H2Stream(callbacks, spec.body);
    const { resources, stats } = this.settings;
    if (!resources.requests.canCreate()) {
      stats.upstreamRqPendingOverflow++;
      handle.fail('overflow', new Error('upstream overflow: circuit breaker open'));
      return handle;
    }
    let session: ClientHttp2Session;
    try {
      session = this.currentSession();
    } catch (err) {
      handle.fail('connection_failure', err as Error);
      return handle;
    }
    handle.session = session;
    const headers = spec.headers as http2.OutgoingHttpHeaders;
    headers[':method'] = spec.method;
    headers[':path'] = spec.path;
    headers[':authority'] = spec.authority;
    headers[':scheme'] = this.scheme;
    const endStream = spec.body === null;
    try {
      handle.attach(session.request(headers, { endStream, waitForTrailers: !endStream }));
    } catch (err) {
      handle.fail(sessionConnected(session) ? 'connection_termination' : 'connection_failure', err as Error);
      return handle;
    }
    this.onStreamOpen(session, handle);
    return handle;
  }

  private onStreamOpen(session: ClientHttp2Session, handle: H2Stream): void {
    const { resources, stats } = this.settings;
    resources.requests.inc();
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    handle.pool = this;
    const st = this.state.get(session)!;
    st.opened++;
    st.active++;
    if (st.idleTimer !== null) {
      clearTimeout(st.idleTimer);
      st.idleTimer = null;
    }
    const max = this.settings.maxRequestsPerConnection;
    if (max !== null && st.opened >= max) {
      // No more streams here; it closes once the ones it carries are done (closing now could refuse
      // the stream just opened, before its HEADERS are out).
      this.retire(session);
      st.retired = true;
    }
  }

  /** @internal A stream opened by this pool closed (ended, reset or aborted). */
  onStreamClosed(session: ClientHttp2Session): void {
    const { resources, stats } = this.settings;
    resources.requests.dec();
    stats.upstreamRqActive--;
    const st = this.state.get(session);
    if (!st || --st.active > 0) return;
    if (st.retired) {
      session.close();
      return;
    }
    const idle = this.settings.idleTimeoutMs;
    if (idle !== null && idle > 0 && !session.closed && !session.destroyed) {
      st.idleTimer = setTimeout(closeIdle, idle, this, session);
      st.idleTimer.unref();
    }
  }

  /** @internal */
  closeIdle(session: ClientHttp2Session): void {
    const st = this.state.get(session);
    if (!st || st.active > 0) return;
    this.retire(session);
    session.close();
  }

  private currentSession(): ClientHttp2Session {
    if (this.closing) throw new Error('connection pool closed');
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    return (this.session = this.connect());
  }

  private connect(): ClientHttp2Session {
    // TLS: Node offers ALPN h2 only, and the session fails (503 UF) unless the server picks it.
    const tls = this.settings.tls;
    const settings = { enablePush: false };
    const session = http2.connect(this.origin, tls ? { settings, ...tlsConnectOptions(tls) } : { settings });
    const { connectTimeoutMs, resources, stats, tcpKeepaliveTimeMs } = this.settings;
    this.sessions.add(session);
    this.state.set(session, { opened: 0, active: 0, idleTimer: null, retired: false });
    const timer = setTimeout(() => {
      session.destroy(Object.assign(new Error(`connect timeout after ${connectTimeoutMs}ms`), { code: 'ETIMEDOUT' }));
    }, connectTimeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      connectedSessions.add(session);
      this.cxTotal++;
      resources.connections.inc();
      stats.upstreamCxTotal++;
      stats.upstreamCxActive++;
      if (tcpKeepaliveTimeMs !== null) session.socket.setKeepAlive(true, tcpKeepaliveTimeMs);
    });
    // Stream errors carry the detail; a session error must not go unhandled.
    session.on('error', () => {
      if (!sessionConnected(session)) {
        this.cxConnectFail++;
        stats.upstreamCxConnectFail++;
      }
    });
    session.once('goaway', () => this.retire(session));
    session.once('close', () => {
      clearTimeout(timer);
      this.retire(session);
      this.sessions.delete(session);
      const st = this.state.get(session);
      if (st?.idleTimer) clearTimeout(st.idleTimer);
      this.state.delete(session);
      if (sessionConnected(session)) {
        resources.connections.dec();
        stats.upstreamCxActive--;
      }
    });
    return session;
  }

  /** New streams go to a new session; this one finishes what it carries. */
  private retire(session: ClientHttp2Session): void {
    if (this.session === session) this.session = null;
  }

  stats(): ConnectionPoolStats {
    let active = 0;
    for (const s of this.sessions) if (sessionConnected(s) && !s.destroyed) active++;
    return { cxActive: active, cxTotal: this.cxTotal, cxConnectFail: this.cxConnectFail };
  }

  close(): Promise<void> {
    this.closing = true;
    this.session = null;
    const open = [...this.sessions];
    return Promise.all(open.map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(resolve))))).then(() => undefined);
  }

  destroy(): void {
    this.closing = true;
    this.session = null;
    for (const s of this.sessions) s.destroy();
  }
}

/** Sessions whose connection came up: a stream failing on any other session is a connect failure. */
const connectedSessions = new WeakSet<ClientHttp2Session>();

function sessionConnected(session: ClientHttp2Session): boolean {
  return connectedSessions.has(session);
}

function closeIdle(pool: Http2Pool, session: ClientHttp2Session): void {
  pool.closeIdle(session);
}

const kHandle = Symbol('trellis.h2handle');
type TaggedStream = ClientHttp2Stream & { [kHandle]?: H2Stream };

/**
 * One upstream h2 stream. Event handlers are module-level functions that find this object through the
 * stream, so a request costs no closures.
 */
class H2Stream implements UpstreamStream {
  session: ClientHttp2Session | null = null;
  /** The pool to tell when the stream closes (set once it counts against the cluster's max_requests). */
  pool: Http2Pool | null = null;
  private stream: TaggedStream | null = null;
  private trailers: IncomingHttpHeaders | null = null;
  private done = false;
  private sawResponse = false;

  constructor(
    private readonly cb: UpstreamCallbacks,
    private readonly body: RequestBody | Buffer | null,
  ) {}

  attach(stream: ClientHttp2Stream): void {
    const s = stream as TaggedStream;
    s[kHandle] = this;
    this.stream = s;
    s.on('response', onResponse);
    s.on('data', onData);
    s.on('trailers', onTrailers);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
    const body = this.body;
    if (body) {
      s.on('wantTrailers', onWantTrailers);
      if (Buffer.isBuffer(body)) s.end(body);
      else body.pipe(s);
    }
  }

  /** A failure before any stream existed: reported asynchronously, like every other callback. */
  fail(reason: ResetReason, err: Error): void {
    this.done = true;
    process.nextTick(() => this.cb.onUpstreamError(reason, err));
  }

  response(headers: IncomingHttpHeaders, flags: number): void {
    const status = Number(headers[':status']);
    if (status >= 100 && status < 200) return; // informational: Node reports 1xx through 'headers', but be safe
    this.sawResponse = true;
    this.cb.onUpstreamHeaders(status, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
  }

  data(chunk: Buffer): void {
    if (!this.done && !this.cb.onUpstreamData(chunk)) this.stream?.pause();
  }

  setTrailers(trailers: IncomingHttpHeaders): void {
    this.trailers = trailers;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.cb.onUpstreamEnd(this.trailers);
  }

  /** The stream closed ('close' always follows the end, a reset or an abort): release it, then report a reset. */
  closed(): void {
    const pool = this.pool;
    if (pool !== null) {
      this.pool = null;
      pool.onStreamClosed(this.session!);
    }
    if (this.done) return;
    this.done = true;
    const s = this.stream!;
    const session = this.session!;
    const reason: ResetReason = !this.sawResponse && !sessionConnected(session)
      ? 'connection_failure'
      : s.rstCode === NGHTTP2_REFUSED_STREAM
        ? 'remote_refused_stream_reset'
        : session.destroyed || session.closed
          ? 'connection_termination'
          : 'remote_reset';
    this.unpipe();
    this.cb.onUpstreamError(reason, new Error(`upstream stream closed (rst code ${s.rstCode ?? 'none'})`));
  }

  sendRequestTrailers(): void {
    const s = this.stream!;
    const t = Buffer.isBuffer(this.body) ? undefined : this.body?.trailers;
    const out: http2.OutgoingHttpHeaders = {};
    if (t) for (const k in t) if (k.charCodeAt(0) !== 58) out[k] = t[k];
    // Empty trailers go out as an empty DATA frame with END_STREAM (Node's own rule).
    s.sendTrailers(out);
  }

  /** A bug while relaying: reset the upstream stream and report a local reset. */
  internalError(err: Error): void {
    const wasDone = this.done;
    this.abort();
    if (!wasDone) this.cb.onUpstreamError('local_reset', err);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.unpipe();
    const s = this.stream;
    if (s && !s.closed && !s.destroyed) s.close(NGHTTP2_CANCEL);
  }

  resume(): void {
    this.stream?.resume();
  }

  private unpipe(): void {
    if (this.body && !Buffer.isBuffer(this.body) && this.stream) this.body.unpipe(this.stream);
  }
}

// Event handlers run outside any caller that could catch: a throw here would take the process down, so
// an unexpected error resets this stream instead.
function onResponse(this: TaggedStream, headers: IncomingHttpHeaders, flags: number): void {
  guarded(this, (h) => h.response(headers, flags));
}
function onData(this: TaggedStream, chunk: Buffer): void {
  guarded(this, (h) => h.data(chunk));
}
function onTrailers(this: TaggedStream, trailers: IncomingHttpHeaders): void {
  this[kHandle]!.setTrailers(trailers);
}
function onEnd(this: TaggedStream): void {
  guarded(this, (h) => h.end());
}
function onError(): void {
  // The 'close' that follows reports the failure.
}
function onClose(this: TaggedStream): void {
  guarded(this, (h) => h.closed());
}
function onWantTrailers(this: TaggedStream): void {
  guarded(this, (h) => h.sendRequestTrailers());
}

function guarded(stream: TaggedStream, fn: (h: H2Stream) => void): void {
  const handle = stream[kHandle]!;
  try {
    fn(handle);
  } catch (err) {
    handle.internalError(err as Error);
  }
}
