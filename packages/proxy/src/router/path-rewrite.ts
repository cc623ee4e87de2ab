import type { PathRewrite } from './route.js';

/** Applies a route's path rewrite to `:path`; the query string is carried over untouched. */
export function rewritePath(path: string, rw: PathRewrite): string {
  const q = path.indexOf('?');
  if (rw.kind === 'prefix') {
    const matched = rw.matchedLength ?? (q < 0 ? path.length : q);
    return rw.replacement + path.slice(matched);
  }
  const pathOnly = q < 0 ? path : path.slice(0, q);
  rw.pattern.lastIndex = 0;
  const rewritten = pathOnly.replace(rw.pattern, rw.substitution);
  return q < 0 ? rewritten : rewritten + path.slice(q);
}
