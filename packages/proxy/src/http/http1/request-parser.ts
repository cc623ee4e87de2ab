import type { IncomingHttpHeaders } from 'node:http';

/** Envoy's default `max_request_headers_kb` (60 KiB): a longer head is answered 431. */
export const MAX_HEAD_BYTES = 60 * 1024;

/** A request the HTTP/1 codec refuses: the status to answer (then the connection closes) and why. */
export class CodecError extends Error {
  constructor(
    readonly status: 400 | 408 | 413 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

/** How the request body is framed (RFC 9112 §6). */
export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

/** One parsed request head. `headers` has lower-case names, duplicates folded as Node folds them. */
export interface ParsedHead {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  readonly headers: IncomingHttpHeaders;
  readonly framing: BodyFraming;
  /** Whether the connection may serve another request after this one (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** `Connection: upgrade` with an `Upgrade` header. */
  readonly upgrade: boolean;
  readonly expectContinue: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB: never valid in a field line (CR and LF only end lines). */
const FORBIDDEN = /[\0-\x08\x0a-\x1f\x7f]/;
const NO_BODY: BodyFraming = { kind: 'none' };

/**
 * Parses a request head (request line and field lines, without the final blank line), strictly: anything
 * RFC 9112 lets a server reject is rejected, since a proxy that is lenient where the next hop is strict (or the
 * reverse) is how requests get smuggled. Bytes are read as latin1, as Node's own parser does.
 */
export function parseRequestHead(head: string): ParsedHead {
  const lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0) throw new CodecError(400, 'malformed request line');
  const method = requestLine.slice(0, sp1);
  const target = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw new CodecError(400, 'invalid method');
  if (target === '' || FORBIDDEN.test(target) || target.includes('\t')) throw new CodecError(400, 'invalid request target');
  let versionMinor: 0 | 1;
  if (version === 'HTTP/1.1') versionMinor = 1;
  else if (version === 'HTTP/1.0') versionMinor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) throw new CodecError(505, 'HTTP version not supported');
  else throw new CodecError(400, 'malformed request line');
  const headers = lineEnd < 0 ? {} : parseFields(head, lineEnd + 2);
  return describe(method, target, versionMinor, headers);
}

/** Field lines from `from` to the end of `text` into a header object (also used for chunked trailers). */
export function parseFields(text: string, from: number): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  let pos = from;
  while (pos < text.length) {
    let end = text.indexOf('\r\n', pos);
    if (end < 0) end = text.length;
    addField(headers, text, pos, end);
    pos = end + 2;
  }
  return headers;
}

function addField(headers: IncomingHttpHeaders, text: string, start: number, end: number): void {
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= end) throw new CodecError(400, 'malformed header line');
  const rawName = text.slice(start, colon);
  if (!TOKEN.test(rawName)) throw new CodecError(400, 'invalid header name'); // also refuses obs-fold
  // The value without surrounding whitespace, cut once (trim() would copy a second string).
  let from = colon + 1;
  let to = end;
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  const value = text.slice(from, to);
  if (FORBIDDEN.test(value)) throw new CodecError(400, 'invalid header value');
  const name = rawName.toLowerCase();
  const prev = headers[name];
  if (prev === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
  } else if (Array.isArray(prev)) {
    prev.push(value);
  } else if (name === 'host' || (name === 'content-length' && prev !== value)) {
    throw new CodecError(400, `duplicate ${name} header`);
  } else if (name !== 'content-length') {
    headers[name] = `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
}

/** SP or HTAB, the only whitespace around a field value (RFC 9110 §5.5). */
function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function describe(method: string, target: string, versionMinor: 0 | 1, headers: IncomingHttpHeaders): ParsedHead {
  const connection = headers.connection;
  const tokens = typeof connection === 'string' ? connection.toLowerCase() : '';
  const close = tokens !== '' && hasToken(tokens, 'close');
  const keepAlive = !close && (versionMinor === 1 || (tokens !== '' && hasToken(tokens, 'keep-alive')));
  const upgrade = headers.upgrade !== undefined && tokens !== '' && hasToken(tokens, 'upgrade');
  const expect = headers.expect;
  return {
    method,
    target,
    versionMinor,
    headers,
    framing: framing(headers),
    keepAlive,
    upgrade,
    expectContinue: typeof expect === 'string' && expect.toLowerCase() === '100-continue',
  };
}

/** RFC 9112 §6.3: chunked or a content length; both at once is refused (Envoy's default), as is any other coding. */
function framing(headers: IncomingHttpHeaders): BodyFraming {
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) throw new CodecError(400, 'both content-length and transfer-encoding');
    const codings = String(te).toLowerCase().split(',');
    if (codings.length !== 1 || codings[0]!.trim() !== 'chunked') throw new CodecError(501, 'unsupported transfer-encoding');
    return { kind: 'chunked' };
  }
  if (cl === undefined) return NO_BODY;
  const s = String(cl);
  if (!/^\d{1,15}$/.test(s)) throw new CodecError(400, 'invalid content-length');
  const length = Number(s);
  return length === 0 ? NO_BODY : { kind: 'length', length };
}

function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}
