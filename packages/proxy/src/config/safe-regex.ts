import { compileRe2, compileRe2Search, type Re2Compiled } from '@trellis/envoy-api';

/**
 * Envoy `safe_regex` (RE2 syntax) as JS RegExps, through envoy-api's RE2-faithful translator (the same one the
 * control plane validates with). A pattern without an exact JS equivalent throws a SyntaxError with the reason;
 * callers turn it into a ConfigRejected naming the field.
 */
function regexpOf(compiled: Re2Compiled): RegExp {
  if (!compiled.ok) throw new SyntaxError(compiled.reason);
  return compiled.regexp;
}

/** A RegExp that must match the whole input, as Envoy's route, header and query matchers require. */
export function compileSafeRegex(pattern: string): RegExp {
  return regexpOf(compileRe2(pattern));
}

/** A global, unanchored RegExp for substitutions (`regex_rewrite` replaces every match). */
export function compileSafeRegexSearch(pattern: string): RegExp {
  return regexpOf(compileRe2Search(pattern));
}
