import type { PathRewrite } from './route.js';

/** Applies a route's path rewrite to `:path`; the query string is carried over untouched. */
export function rewritePath(path: string, rw: PathRewrite): string {
  if (rw.kind === 'prefix') return rw.replacement + path.slice(rw.matchedLength);
  const q = path.indexOf('?');
  const pathOnly = q < 0 ? path : path.slice(0, q);
  rw.pattern.lastIndex = 0;
  const rewritten = pathOnly.replace(rw.pattern, rw.substitution);
  return q < 0 ? rewritten : rewritten + path.slice(q);
}
