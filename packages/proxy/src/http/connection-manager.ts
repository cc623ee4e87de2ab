import type { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { ActiveStream, type DownstreamResponse, type RequestHead } from './active-stream.js';
import type { ListenerContext } from './data-plane.js';
import { headerHasToken } from './headers.js';
import type { Http1ServerRequest } from './http1/server-request.js';
import type { Http1ServerResponse } from './http1/server-response.js';
import { MalformedRequest, parseRequestHead, requestBody, type DownstreamRequest } from './request-head.js';
import { ResponseFlag, StreamInfo } from './stream-info.js';
import { PEER_METADATA_HEADER } from '../telemetry/peer-metadata.js';
import { newRequestId } from '../tracing/trace-context.js';

/**
 * Envoy's HTTP connection manager for one listener: turns each downstream request (HTTP/1.1 or HTTP/2, or
 * an HTTP/1.1 upgrade) into an ActiveStream against the snapshot current at that moment, edits the
 * forwarding headers (x-forwarded-for / -proto, x-request-id), picks the route and runs the filter chain.
 */
export class HttpConnectionManager {
  /** While draining, HTTP/1 responses carry `connection: close` so keep-alive connections wind down. */
  draining = false;

  constructor(private readonly context: () => ListenerContext) {}

  onRequest(req: DownstreamRequest, res: Http1ServerResponse | Http2ServerResponse): void {
    const ctx = this.context();
    const response = res as unknown as DownstreamResponse;
    // HTTP/2 responses can emit 'error'; the HTTP/1 codec's never do, so they need no listener.
    if (req.httpVersionMajor === 2) response.on('error', noop);
    let head: RequestHead;
    try {
      head = parseRequestHead(req, ctx.hcm, null);
    } catch (err) {
      if (!(err instanceof MalformedRequest)) throw err;
      this.rejectMalformed(ctx, req, res, err.message);
      return;
    }
    if (this.draining && req.httpVersionMajor === 1) (res as Http1ServerResponse).shouldKeepAlive = false;
    const body = requestBody(req);
    body?.on('error', noop);
    this.run(new ActiveStream(ctx, this.prepare(ctx, head), body, response));
  }

  /** An HTTP/1.1 request with `Connection: upgrade` (the codec hands over the raw socket). */
  onUpgrade(req: Http1ServerRequest, socket: Duplex, upgradeHead: Buffer): void {
    const ctx = this.context();
    socket.on('error', noop);
    const upgrade = typeof req.headers.upgrade === 'string' ? req.headers.upgrade.toLowerCase() : '';
    let head: RequestHead;
    try {
      head = parseRequestHead(req, ctx.hcm, upgrade);
    } catch (err) {
      if (!(err instanceof MalformedRequest)) throw err;
      socket.end(badRequest(err.message));
      return;
    }
    this.run(new ActiveStream(ctx, this.prepare(ctx, head), null, null, socket, upgradeHead));
  }

  /** A request the HTTP/1 codec refused (it answers and closes the connection itself): logged like Envoy's codec errors. */
  onCodecError(status: number): void {
    this.logCodecError(status);
  }

  private rejectMalformed(ctx: ListenerContext, req: DownstreamRequest, res: Http1ServerResponse | Http2ServerResponse, reason: string): void {
    const body = Buffer.from(reason);
    if (req.httpVersionMajor === 1) (res as Http1ServerResponse).shouldKeepAlive = false;
    res.writeHead(400, { 'content-type': 'text/plain', 'content-length': String(body.length) });
    res.end(body);
    this.logCodecError(400, ctx);
  }

  private logCodecError(status: number, ctx: ListenerContext = this.context()): void {
    const sinks = ctx.onStreamComplete;
    if (sinks.length === 0) return;
    const info = new StreamInfo();
    info.listenerName = ctx.listenerName;
    info.responseCode = status;
    info.setFlag(ResponseFlag.DPE);
    info.responseCodeDetails = 'http1.codec_error';
    info.durationMs = 0;
    for (const sink of sinks) {
      try {
        sink(info, null);
      } catch {
        // never let logging break the data path
      }
    }
  }

  /** The HCM's own request header edits, done before routing so routes can match on them (as in Envoy). */
  private prepare(ctx: ListenerContext, head: RequestHead): RequestHead {
    const h = head.headers;
    const hcm = ctx.hcm;
    if (!hcm.skipXffAppend && head.remoteAddress !== '') {
      const xff = h['x-forwarded-for'];
      h['x-forwarded-for'] = xff ? `${xff}, ${head.remoteAddress}` : head.remoteAddress;
    }
    if (h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = head.scheme;
    if (hcm.generateRequestId && h['x-request-id'] === undefined) h['x-request-id'] = newRequestId();
    return head;
  }

  private run(stream: ActiveStream): void {
    const ctx = stream.ctx;
    const hcm = ctx.hcm;
    const info = stream.info;
    const rid = stream.headers['x-request-id'];
    info.requestId = typeof rid === 'string' ? rid : '';
    if (ctx.direction === 'INBOUND') takePeerMetadata(stream);
    const table = hcm.inlineRoutes ?? (hcm.routeConfigName !== null ? ctx.snapshot.config.routeConfigs.get(hcm.routeConfigName) : undefined);
    if (table) {
      info.routeConfigName = table.name;
      const vh = table.findVirtualHost(stream.authority);
      if (vh) {
        stream.virtualHost = vh;
        info.virtualHostName = vh.name;
        if (vh.requireTls && !hcm.downstreamTls) {
          // Envoy's SSL redirect: same host and path, https.
          stream.sendLocalReply(301, '', 0, 'ssl_redirect', { location: `https://${stream.authority}${stream.path}` });
          return;
        }
        const route = vh.findRoute(stream);
        if (route) {
          stream.route = route;
          info.routeName = route.name;
        }
      }
    }
    if (stream.upgradeType !== null && !upgradeAllowed(stream)) {
      stream.sendLocalReply(403, '', 0, 'upgrade_failed');
      return;
    }
    stream.decodeHeaders();
  }
}

/**
 * Inbound: the caller's peer metadata goes to telemetry and off the request, so neither routing nor the app
 * sees it (Istio's metadata exchange removes it the same way).
 */
function takePeerMetadata(stream: ActiveStream): void {
  const headers = stream.headers;
  const v = headers[PEER_METADATA_HEADER];
  if (v === undefined) return;
  stream.info.downstreamPeerMetadata = typeof v === 'string' ? v : (v[0] ?? '');
  headers[PEER_METADATA_HEADER] = undefined;
}

/** Envoy: a route's upgrade_configs entry decides; otherwise the HCM's list. */
function upgradeAllowed(stream: ActiveStream): boolean {
  const type = stream.upgradeType!;
  const route = stream.route;
  if (route !== null && route.action.kind === 'forward') {
    const perRoute = route.action.upgrades.get(type);
    if (perRoute !== undefined) return perRoute;
  }
  return stream.hcm.upgradeTypes.has(type) && headerHasToken(stream.headers.connection, 'upgrade');
}

function badRequest(reason: string): string {
  return `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(reason)}\r\nconnection: close\r\n\r\n${reason}`;
}

function noop(): void {}
