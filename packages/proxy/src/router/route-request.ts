import type { IncomingHttpHeaders } from 'node:http';

/**
 * What route matching reads from a request: the HTTP/2-style pseudo-headers plus the regular headers
 * (lower-case names). HTTP/1 requests are normalised to this shape (Host is `:authority`), as in Envoy.
 */
export interface RouteRequest {
  readonly method: string;
  readonly authority: string;
  readonly scheme: string;
  /** `:path` with the query string. */
  readonly path: string;
  /** `:path` without the query string (regex and exact path matches look at this). */
  readonly pathNoQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** Query parameters, parsed on first use (most routes never look). First occurrence wins. */
  queryParams(): ReadonlyMap<string, string>;
}

/**
 * A header's value as Envoy's matchers see it: pseudo-headers from the request line, several values of a
 * repeated header joined with ','. Undefined when absent.
 */
export function headerValue(req: RouteRequest, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* : */) {
    switch (name) {
      case ':method':
        return req.method;
      case ':authority':
        return req.authority;
      case ':path':
        return req.path;
      case ':scheme':
        return req.scheme;
      default:
        return undefined;
    }
  }
  if (name === 'host') return req.authority;
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

/** Parses a query string (without '?') the way Envoy's matcher does: first value per name, percent-decoded. */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
