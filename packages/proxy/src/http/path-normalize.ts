/**
 * The HCM's path normalisation: `normalize_path` removes dot segments (RFC 3986 §5.2.4) and turns
 * backslashes into slashes; `merge_slashes` collapses runs of '/'. The query string is left alone. Paths
 * with nothing to normalise are returned as they are, without allocating.
 */
export function normalizePath(path: string, dotSegments: boolean, mergeSlashes: boolean): string {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  const needsDots = dotSegments && (p.includes('/.') || p.includes('\\'));
  const needsMerge = mergeSlashes && p.includes('//');
  if (!needsDots && !needsMerge) return path;
  let out = dotSegments ? p.replace(/\\/g, '/') : p;
  if (mergeSlashes) out = out.replace(/\/{2,}/g, '/');
  if (dotSegments) out = removeDotSegments(out);
  return q < 0 ? out : out + path.slice(q);
}

function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.') {
      if (i === segments.length - 1) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}
