/**
 * Rules a request can never reach (Istio's analyzeUnreachable*Rules): a rule after one without
 * matches, and matches identical to an earlier rule's. Warnings, as in Istio.
 */
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

interface Rule {
  name?: string;
  match?: readonly (object | null)[];
}

export function warnUnreachableRules(rules: readonly (Rule | null)[] | undefined, path: FieldPath, r: Reporter): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  rules?.forEach((rule, i) => {
    if (!rule) return;
    const at = [...path, i];
    const matches = rule.match ?? [];
    if (matches.length === 0) {
      if (catchAll >= 0) r.warn(at, `virtualService rule ${ruleName(rule, i)} not used (only the last rule can have no matches)`);
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      if (catchAll >= 0) {
        r.warn(at, `virtualService rule ${ruleName(rule, i)} not used (route without matches defined before)`);
        return;
      }
      const key = canonicalJSON(withoutName(m));
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const earlierRule = rules[earlier] ?? {};
        r.warn([...at, 'match', j], `virtualService rule ${ruleName(rule, i)} match ${matchName(m, j)} is not used (duplicate/overlapping match in rule ${ruleName(earlierRule, earlier)})`);
        duplicates++;
      } else {
        seen.set(key, i);
      }
    });
    if (duplicates === matches.length) r.warn(at, `virtualService rule ${ruleName(rule, i)} not used (all matches used by prior rules)`);
  });
}

function ruleName(rule: Rule, i: number): string {
  return rule.name ? JSON.stringify(rule.name) : `#${i}`;
}

function matchName(m: object | null, j: number): string {
  const name = (m as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? JSON.stringify(name) : `#${j}`;
}

function withoutName(m: object | null): unknown {
  if (!m) return m;
  const { name: _name, ...rest } = m as Record<string, unknown>;
  return rest;
}

/** JSON with sorted keys, so two matches written in different key orders compare equal. */
function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJSON(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
