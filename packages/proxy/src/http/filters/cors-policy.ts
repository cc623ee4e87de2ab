import type { EnvoyJson } from '@trellis/envoy-api';
import { compileStringMatcher, type StringMatch } from '../../config/compile-matchers.js';
import { Where, list, str, wrappedBool } from '../../config/envoy-values.js';
import { runtimeFraction } from '../../config/fractional-percent.js';

/**
 * A compiled envoy.extensions.filters.http.cors.v3.CorsPolicy (a route's, virtual host's or route
 * configuration's per-filter config). A more specific policy is merged over a less specific one field by
 * field, as Envoy's CORS filter reads them; whether the filter is enabled comes from the most specific one.
 */
export class CorsPolicy {
  constructor(
    readonly allowOrigins: readonly StringMatch[],
    /** An origin matcher accepts "*": every origin is allowed. */
    readonly anyOrigin: boolean,
    readonly allowMethods: string,
    readonly allowHeaders: string,
    readonly exposeHeaders: string,
    readonly maxAge: string,
    readonly allowCredentials: boolean | null,
    readonly allowPrivateNetworkAccess: boolean | null,
    /** Istio's `unmatchedPreflights`: FORWARD (true, Envoy's default when unset) or IGNORE (false). */
    readonly forwardNotMatchingPreflights: boolean | null,
    /** `filter_enabled` (default: always). */
    readonly enabledFraction: number,
    /** `shadow_enabled` (default: never). Shadow mode only evaluates origins for stats, which Trellis doesn't keep. */
    readonly shadowFraction: number,
  ) {}

  isOriginAllowed(origin: string): boolean {
    if (this.anyOrigin) return true;
    for (const m of this.allowOrigins) if (m(origin)) return true;
    return false;
  }

  get credentials(): boolean {
    return this.allowCredentials === true;
  }

  get forwardsNotMatchingPreflights(): boolean {
    return this.forwardNotMatchingPreflights ?? true;
  }

  get privateNetworkAccess(): boolean {
    return this.allowPrivateNetworkAccess === true;
  }

  /** This policy over a less specific one: each field that is empty here comes from `outer`. */
  mergedOver(outer: object): object {
    if (!(outer instanceof CorsPolicy)) return this;
    const origins = this.allowOrigins.length > 0 ? this : outer;
    return new CorsPolicy(
      origins.allowOrigins,
      origins.anyOrigin,
      this.allowMethods || outer.allowMethods,
      this.allowHeaders || outer.allowHeaders,
      this.exposeHeaders || outer.exposeHeaders,
      this.maxAge || outer.maxAge,
      this.allowCredentials ?? outer.allowCredentials,
      this.allowPrivateNetworkAccess ?? outer.allowPrivateNetworkAccess,
      this.forwardNotMatchingPreflights ?? outer.forwardNotMatchingPreflights,
      this.enabledFraction,
      this.shadowFraction,
    );
  }
}

export function compileCorsPolicy(where: Where, p: EnvoyJson, field: string): CorsPolicy {
  const origins = list(where, p.allow_origin_string_match, `${field}allow_origin_string_match`).map((m, i) =>
    compileStringMatcher(where, m, `${field}allow_origin_string_match[${i}]`),
  );
  const maxAge = str(where, p.max_age, `${field}max_age`) ?? '';
  if (maxAge !== '' && !/^\d+$/.test(maxAge)) where.reject(`${field}max_age`, `invalid max_age ${JSON.stringify(maxAge)} (seconds)`);
  return new CorsPolicy(
    origins,
    origins.some((m) => m('*')),
    str(where, p.allow_methods, `${field}allow_methods`) ?? '',
    str(where, p.allow_headers, `${field}allow_headers`) ?? '',
    str(where, p.expose_headers, `${field}expose_headers`) ?? '',
    maxAge,
    wrappedBool(where, p.allow_credentials, `${field}allow_credentials`) ?? null,
    wrappedBool(where, p.allow_private_network_access, `${field}allow_private_network_access`) ?? null,
    wrappedBool(where, p.forward_not_matching_preflights, `${field}forward_not_matching_preflights`) ?? null,
    runtimeFraction(where, p.filter_enabled, `${field}filter_enabled`, 1),
    runtimeFraction(where, p.shadow_enabled, `${field}shadow_enabled`, 0),
  );
}
