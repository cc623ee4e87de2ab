import type { IncomingHttpHeaders } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { HttpConnectionManagerConfig } from '../config/compiled-config.js';
import { stripPort } from '../router/route-table.js';
import type { RequestBody } from '../upstream/connection-pool.js';
import type { RequestHead } from './active-stream.js';
import type { Http1ServerRequest } from './http1/server-request.js';
import { normalizePath } from './path-normalize.js';

export type DownstreamRequest = Http1ServerRequest | Http2ServerRequest;

/** A request the connection manager refuses before routing (Envoy: 400, connection closed on HTTP/1). */
export class MalformedRequest extends Error {}

const ABSOLUTE_FORM = /^(https?):\/\/([^/?#]*)(.*)$/i;

/**
 * Normalises a downstream request to HTTP/2 terms: `:method`, `:authority` (HTTP/1 Host, or the authority
 * of an absolute-form target when the app uses the sidecar as an HTTP proxy), `:scheme`, `:path` (origin
 * form). Applies the HCM's path normalisation. Throws MalformedRequest for a target it can't route.
 */
export function parseRequestHead(
  req: DownstreamRequest,
  hcm: HttpConnectionManagerConfig,
  upgradeType: string | null,
): RequestHead {
  const headers = req.headers as IncomingHttpHeaders;
  const h2 = req.httpVersionMajor === 2;
  let authority: string;
  let scheme: string;
  let path: string;
  if (h2) {
    authority = str(headers[':authority']) ?? str(headers.host) ?? '';
    scheme = str(headers[':scheme']) ?? 'http';
    path = str(headers[':path']) ?? '';
  } else {
    const target = req.url ?? '';
    if (target.charCodeAt(0) === 47 /* / */ || target === '*') {
      path = target;
      authority = str(headers.host) ?? '';
      scheme = hcm.downstreamTls ? 'https' : 'http';
    } else {
      const m = ABSOLUTE_FORM.exec(target);
      if (!m) throw new MalformedRequest(`invalid request target ${JSON.stringify(target.slice(0, 64))}`);
      scheme = m[1]!.toLowerCase();
      authority = m[2]!;
      path = m[3] === '' ? '/' : m[3]!.charCodeAt(0) === 63 /* ? */ ? `/${m[3]}` : m[3]!;
    }
  }
  const method = req.method ?? 'GET';
  if (path === '*') {
    if (method !== 'OPTIONS') throw new MalformedRequest('"*" is only a valid target for OPTIONS');
  } else if (path.charCodeAt(0) !== 47) {
    throw new MalformedRequest('the path must start with "/"');
  }
  if (hcm.normalizePath || hcm.mergeSlashes) path = normalizePath(path, hcm.normalizePath, hcm.mergeSlashes);
  if (hcm.stripAnyHostPort) authority = stripPort(authority);
  return {
    method,
    authority,
    scheme,
    path,
    headers,
    protocol: h2 ? 'HTTP/2' : 'HTTP/1.1',
    remoteAddress: unmapV4(req.socket?.remoteAddress ?? ''),
    upgradeType,
  };
}

/** The body the upstream must receive, or null when the request has none. */
export function requestBody(req: DownstreamRequest): RequestBody | null {
  if (!('stream' in req)) return req.body;
  return req.stream.endAfterHeaders ? null : (req as RequestBody);
}

function str(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`, as Envoy prints IPv4 peers on dual-stack sockets. */
function unmapV4(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
