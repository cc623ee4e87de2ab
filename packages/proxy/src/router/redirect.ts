import type { RouteRequest } from './route-request.js';
import type { RedirectAction } from './route.js';
import { rewritePath } from './path-rewrite.js';
import { stripPort } from './route-table.js';

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };

/**
 * The Location of a `redirect` route, built as Envoy does: scheme, host and port replaced where set (a port
 * that is the new scheme's default is dropped), then the path replaced or rewritten, the query kept unless
 * stripped (a `path_redirect` with its own query replaces it).
 */
export function redirectLocation(req: RouteRequest, r: RedirectAction): string {
  const scheme = r.scheme ?? req.scheme;
  // host_redirect may carry its own port.
  const baseAuthority = r.host ?? req.authority;
  const host = stripPort(baseAuthority);
  let port = r.port !== null ? String(r.port) : portOf(baseAuthority);
  const droppedOnSchemeChange = r.scheme !== null && r.port === null && port === DEFAULT_PORT[req.scheme];
  if (port !== null && (port === DEFAULT_PORT[scheme] || droppedOnSchemeChange)) port = null;
  const authority = port === null ? host : `${host}:${port}`;

  let path: string;
  if (r.path !== null) {
    path = r.path.includes('?') || r.stripQuery ? r.path : r.path + queryOf(req.path);
  } else {
    path = r.pathRewrite ? rewritePath(req.path, r.pathRewrite) : req.path;
    if (r.stripQuery) {
      const q = path.indexOf('?');
      if (q >= 0) path = path.slice(0, q);
    }
  }
  return `${scheme}://${authority}${path}`;
}

function portOf(authority: string): string | null {
  const host = stripPort(authority);
  return host.length < authority.length ? authority.slice(host.length + 1) : null;
}

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? '' : path.slice(q);
}
