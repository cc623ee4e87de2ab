/**
 * StringMatch (`exact` / `prefix` / `regex`; the walker already allows at most one). A header match
 * may be `{}`, meaning "the header is present". Regexes are RE2, full-match, checked by compileRe2.
 */
import type { StringMatch } from '../istio-types.js';
import { compileRe2 } from '@trellis/envoy-api';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

/** Envoy's RE2 program-size limit is approximated by length, as Istio does. */
const MAX_REGEX_LENGTH = 1024;

export interface StringMatchRules {
  /** URIs may use `prefix: ""` (Envoy's route prefix allows it); other matches may not. */
  allowEmptyPrefix?: boolean;
}

export function validateStringMatch(sm: StringMatch | undefined, path: FieldPath, r: Reporter, rules: StringMatchRules = {}): void {
  if (sm === undefined) return;
  if (sm.prefix === '' && !rules.allowEmptyPrefix) r.error([...path, 'prefix'], 'prefix string match should not be empty');
  if (sm.regex !== undefined) {
    if (sm.regex === '') r.error([...path, 'regex'], 'regex string match should not be empty');
    else validateRegex(sm.regex, [...path, 'regex'], r);
  }
}

export function validateRegex(pattern: string, path: FieldPath, r: Reporter): void {
  if (pattern.length > MAX_REGEX_LENGTH) {
    r.error(path, `regex is too large, max length allowed is ${MAX_REGEX_LENGTH}`);
    return;
  }
  const compiled = compileRe2(pattern);
  if (!compiled.ok) r.error(path, `regex ${JSON.stringify(pattern)}: ${compiled.reason} (Istio uses RE2 syntax, https://github.com/google/re2/wiki/Syntax)`);
}
