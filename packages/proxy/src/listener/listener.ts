import http2 from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { SocketAddress } from '../config/compiled-config.js';
import { HttpConnectionManager } from '../http/connection-manager.js';
import { CountingHttp2ServerRequest } from '../http/h2-request.js';
import type { ListenerContext } from '../http/data-plane.js';
import { Http1ServerConnection, type Http1Handlers } from '../http/http1/server-connection.js';
import type { Http1ServerResponse } from '../http/http1/server-response.js';
import { sniffProtocol } from './protocol-sniffer.js';
import { TlsTerminator } from './tls-terminator.js';
import type { TlsFilterChain } from '../config/compile-downstream-tls.js';

/** How long a new connection may stay silent before we know which protocol it speaks (Envoy's listener filter timeout). */
const SNIFF_TIMEOUT_MS = 15_000;
/** HTTP/1 idle and header timeouts are checked once a second, by one sweep over the connections. */
const SWEEP_MS = 1_000;
/** Idle keep-alive connections are kept this long (Envoy's default is an hour; apps' clients time out sooner). */
const KEEP_ALIVE_TICKS = 60;
/** A request head must arrive within this long (Node's default headersTimeout). */
const HEADER_TIMEOUT_TICKS = 60;

export type Log = (msg: string) => void;

/**
 * One listening socket (Envoy Listener): accepts TCP connections, tells HTTP/2 prior knowledge from
 * HTTP/1.1 by the connection preface, and hands each connection to an HTTP/1 or HTTP/2 server whose
 * requests go to this listener's connection manager. The servers never listen themselves. A TLS listener
 * (a gateway's HTTPS port) first terminates TLS, picking the filter chain by SNI; ALPN then picks the codec
 * and the chain's own connection manager serves the requests.
 */
export class Listener {
  private readonly server: net.Server;
  private readonly h1: Http1Handlers;
  private readonly h2: http2.Http2Server;
  private readonly hcm: HttpConnectionManager;
  private readonly sockets = new Set<net.Socket>();
  private readonly h1Connections = new Set<Http1ServerConnection>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly clock = { tick: 0 };
  private sweeper: NodeJS.Timeout | null = null;
  private ctx: ListenerContext;
  /** TLS listeners: the terminator, each chain's codecs, and each chain's context (the listener's with the chain's HCM). */
  private tls: TlsTerminator | null = null;
  private readonly chains = new Map<string, ChainCodecs>();
  private chainContexts: Map<string, ListenerContext> | null = null;

  constructor(
    readonly name: string,
    readonly bind: SocketAddress,
    ctx: ListenerContext,
    private readonly log: Log,
  ) {
    this.ctx = ctx;
    this.hcm = new HttpConnectionManager(() => this.ctx);
    const codecs = this.codecsFor(this.hcm);
    this.h1 = codecs.h1;
    this.h2 = codecs.h2;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onConnection(socket));
    this.server.on('error', (err) => this.log(`listener ${name}: ${err.message}`));
  }

  /** Takes effect for the next request on every connection, open or new. */
  update(ctx: ListenerContext): void {
    this.ctx = ctx;
    if (this.chainContexts !== null) this.chainContexts = chainContexts(ctx);
  }

  /** The HTTP/1 and HTTP/2 codecs feeding one connection manager (the listener's, or a TLS chain's). */
  private codecsFor(hcm: HttpConnectionManager): ChainCodecs {
    const h1: Http1Handlers = {
      onRequest: (req, res) => this.guard(() => hcm.onRequest(req, res), res),
      onUpgrade: (req, socket, head) => this.guard(() => hcm.onUpgrade(req, socket, head), socket),
      onCodecError: (status) => hcm.onCodecError(status),
    };
    const h2 = http2.createServer({ settings: { enablePush: false }, Http2ServerRequest: CountingHttp2ServerRequest });
    h2.on('request', (req, res) => this.guard(() => hcm.onRequest(req, res), res));
    h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.on('error', noop);
      session.once('close', () => this.sessions.delete(session));
    });
    h2.on('sessionError', noop);
    return { hcm, h1, h2 };
  }

  /**
   * A decrypted connection of a TLS listener: its chain's connection manager serves it, over HTTP/2 when
   * ALPN chose h2, else HTTP/1.1. Each chain's codecs are made on first use and kept by chain name.
   */
  private onSecure(socket: tls.TLSSocket, chain: TlsFilterChain): void {
    this.chainContexts ??= chainContexts(this.ctx);
    let codecs = this.chains.get(chain.name);
    if (!codecs) {
      const name = chain.name;
      const hcm = new HttpConnectionManager(() => this.chainContexts?.get(name) ?? this.ctx);
      hcm.draining = this.hcm.draining;
      codecs = this.codecsFor(hcm);
      this.chains.set(name, codecs);
    }
    this.handOff(socket, socket.alpnProtocol === 'h2' ? 'http2' : 'http1', codecs);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.bind.address, port: this.bind.port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** Whether connections are TLS the listener terminates (a gateway's HTTPS port). */
  get terminatesTls(): boolean {
    return !!this.ctx.tls;
  }

  /** The bound address (the real port when the configured one was 0). */
  address(): SocketAddress {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : this.bind;
  }

  /**
   * Stops accepting, lets in-flight requests finish (HTTP/1 connections close after their current
   * response, HTTP/2 sessions get GOAWAY), and after `timeoutMs` drops whatever is left.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.hcm.draining = true;
    for (const c of this.chains.values()) c.hcm.draining = true;
    // Stop accepting; the close callback would wait for every connection, so don't wait on it here.
    this.server.close(noop);
    for (const c of this.h1Connections) c.drain();
    for (const s of this.sessions) s.close();
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const s of this.sockets) s.destroy();
    for (const s of this.sessions) s.destroy();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', noop);
    const tlsConfig = this.ctx.tls;
    if (tlsConfig) {
      this.tls ??= new TlsTerminator((s, chain) => this.onSecure(s, chain), SNIFF_TIMEOUT_MS);
      return this.tls.accept(socket, tlsConfig);
    }
    const codec = this.ctx.hcm.codecType;
    if (codec === 'HTTP1') return this.handOff(socket, 'http1');
    if (codec === 'HTTP2') return this.handOff(socket, 'http2');
    sniffProtocol(socket, SNIFF_TIMEOUT_MS, (protocol) => this.handOff(socket, protocol));
  }

  private handOff(socket: net.Socket, protocol: 'http1' | 'http2', via: ChainCodecs | null = null): void {
    if (protocol === 'http2') {
      // The HTTP/2 session reads what the sniffer put back itself; resuming here would lose it.
      (via?.h2 ?? this.h2).emit('connection', socket);
      return;
    }
    const conn = new Http1ServerConnection(socket, via?.h1 ?? this.h1, this.clock);
    if (this.hcm.draining) conn.drain();
    this.h1Connections.add(conn);
    socket.once('close', () => this.h1Connections.delete(conn));
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    socket.resume();
  }

  private sweep(): void {
    const tick = ++this.clock.tick;
    for (const c of this.h1Connections) c.sweep(tick, KEEP_ALIVE_TICKS, HEADER_TIMEOUT_TICKS);
  }

  /** Keeps a bug in one request from taking the proxy down: the request gets a 500 (or its socket closes). */
  private guard(fn: () => void, target: Http1ServerResponse | http2.Http2ServerResponse | Duplex): void {
    try {
      fn();
    } catch (err) {
      this.log(`listener ${this.name}: request failed: ${(err as Error).stack ?? String(err)}`);
      if ('headersSent' in target && !target.headersSent) {
        target.writeHead(500, { 'content-length': '0' });
        target.end();
      } else if ('destroy' in target) {
        target.destroy();
      }
    }
  }
}

function noop(): void {}

interface ChainCodecs {
  hcm: HttpConnectionManager;
  h1: Http1Handlers;
  h2: http2.Http2Server;
}

/** Per TLS chain name, the listener context with that chain's connection manager config. */
function chainContexts(ctx: ListenerContext): Map<string, ListenerContext> {
  return new Map((ctx.tls?.chains ?? []).map((c) => [c.name, { ...ctx, hcm: c.hcm }]));
}
