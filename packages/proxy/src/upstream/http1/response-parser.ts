import type { IncomingHttpHeaders } from 'node:http';
import { headerHasToken } from '../../http/headers.js';
import { parseFields, type BodyFraming } from '../../http/http1/request-parser.js';

/** A response the upstream sent that isn't HTTP/1.x (Envoy's upstream protocol error): the connection is dropped. */
export class UpstreamProtocolError extends Error {}

/** How a response body ends (RFC 9112 §6.3): as the request parser frames it, or at the close of the connection. */
export type ResponseFraming = BodyFraming | { readonly kind: 'close' };

/** One parsed response head; `headers` as the request parser folds them (lower-case names, set-cookie an array). */
export interface ResponseHead {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly framing: ResponseFraming;
  /** Whether the connection may carry another request after this response. */
  readonly keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=N` hint in ms, or null. */
  readonly keepAliveHintMs: number | null;
}

const NONE: ResponseFraming = { kind: 'none' };
const CHUNKED: ResponseFraming = { kind: 'chunked' };
const UNTIL_CLOSE: ResponseFraming = { kind: 'close' };

/**
 * Parses a response head (status line and field lines, without the blank line). `head` is read as latin1.
 * Throws UpstreamProtocolError. `noBody`: the request was HEAD, whose response has no body whatever it says.
 */
export function parseResponseHead(head: string, noBody: boolean): ResponseHead {
  const lineEnd = head.indexOf('\r\n');
  const status = statusCode(head, lineEnd < 0 ? head.length : lineEnd);
  let headers: IncomingHttpHeaders;
  try {
    headers = lineEnd < 0 ? {} : parseFields(head, lineEnd + 2);
  } catch (err) {
    throw new UpstreamProtocolError((err as Error).message);
  }
  const framing = noBody || status < 200 || status === 204 || status === 304 ? NONE : responseFraming(headers);
  const persistent = head.charCodeAt(7) === 49 /* HTTP/1.1 */ ? !headerHasToken(headers.connection, 'close') : headerHasToken(headers.connection, 'keep-alive');
  // A body that ends with the connection, or one framed both ways, leaves nothing to reuse.
  const keepAlive = persistent && framing.kind !== 'close' && !(headers['transfer-encoding'] !== undefined && headers['content-length'] !== undefined);
  return { status, headers, framing, keepAlive, keepAliveHintMs: keepAlive ? keepAliveHint(headers['keep-alive']) : null };
}

/** `HTTP/1.x NNN[ reason]` -> NNN, read in place (this runs for every response). */
function statusCode(head: string, lineEnd: number): number {
  const v = head.charCodeAt(7);
  if (!head.startsWith('HTTP/1.') || (v !== 48 && v !== 49) || head.charCodeAt(8) !== 32) throw new UpstreamProtocolError('malformed status line');
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = head.charCodeAt(i) - 48;
    if (i >= lineEnd || d < 0 || d > 9) throw new UpstreamProtocolError('malformed status line');
    status = status * 10 + d;
  }
  if (lineEnd > 12 && head.charCodeAt(12) !== 32) throw new UpstreamProtocolError('malformed status line');
  return status;
}

/** RFC 9112 §6.3 for responses: chunked as the final coding, else a content length, else until close. */
function responseFraming(headers: IncomingHttpHeaders): ResponseFraming {
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = String(te).toLowerCase().split(',');
    return codings[codings.length - 1]!.trim() === 'chunked' ? CHUNKED : UNTIL_CLOSE;
  }
  const cl = headers['content-length'];
  if (cl === undefined) return UNTIL_CLOSE;
  const s = String(cl);
  if (!/^\d{1,15}$/.test(s)) throw new UpstreamProtocolError('invalid content-length');
  const length = Number(s);
  return length === 0 ? NONE : { kind: 'length', length };
}

function keepAliveHint(v: string | string[] | undefined): number | null {
  if (typeof v !== 'string') return null;
  const m = /(?:^|[\s,])timeout=(\d+)/i.exec(v);
  return m ? Number(m[1]) * 1000 : null;
}
