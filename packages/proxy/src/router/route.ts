import type { EnvoyJson } from '@trellis/envoy-api';
import type { HeaderMutations } from './header-mutations.js';
import type { RouteRequest } from './route-request.js';

/** A compiled `route.match`: path, headers, query parameters, runtime fraction and gRPC checks in one call. */
export type RouteMatcher = (req: RouteRequest) => boolean;

/** One compiled Route of a virtual host. Immutable: shared by every request routed while its snapshot lives. */
export interface RouteEntry {
  readonly name: string;
  readonly match: RouteMatcher;
  readonly action: RouteAction;
  /** Request header edits of the route, its virtual host and route configuration, most specific first. */
  readonly requestHeaderMutations: readonly HeaderMutations[];
  readonly responseHeaderMutations: readonly HeaderMutations[];
  /** `typed_per_filter_config` by filter name (the route's over its virtual host's), for filters to read. */
  readonly perFilterConfig: ReadonlyMap<string, EnvoyJson>;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

/** `route`: forward to a cluster. */
export interface ForwardAction {
  readonly kind: 'forward';
  readonly clusters: ClusterSpecifier;
  /** `cluster_not_found_response_code`: the status when the chosen cluster doesn't exist (Envoy: 503). */
  readonly clusterNotFoundStatus: number;
  /** Envoy's route timeout: from the end of the downstream request to the end of the response. 0 = none. */
  readonly timeoutMs: number;
  /** `max_stream_duration.max_stream_duration`: a deadline from the start of the stream. 0 = none. */
  readonly maxStreamDurationMs: number;
  readonly pathRewrite: PathRewrite | null;
  readonly hostRewrite: string | null;
  /** `auto_host_rewrite`: Host becomes the chosen endpoint's hostname (DNS clusters). */
  readonly autoHostRewrite: boolean;
  readonly retryPolicy: RetryPolicy | null;
  /** `hash_policy` entries, kept for hashing load balancers. */
  readonly hashPolicy: readonly EnvoyJson[];
  /** Route-level `upgrade_configs`: upgrade type (lower-case) -> enabled. */
  readonly upgrades: ReadonlyMap<string, boolean>;
}

export type ClusterSpecifier =
  | { readonly kind: 'cluster'; readonly name: string }
  | { readonly kind: 'header'; readonly header: string }
  | WeightedClusters;

export interface WeightedClusters {
  readonly kind: 'weighted';
  readonly clusters: readonly WeightedCluster[];
  readonly totalWeight: number;
}

export interface WeightedCluster {
  readonly name: string;
  readonly weight: number;
  readonly requestHeaderMutations: HeaderMutations | null;
  readonly responseHeaderMutations: HeaderMutations | null;
  readonly perFilterConfig: ReadonlyMap<string, EnvoyJson>;
}

/** `prefix_rewrite` (swap the matched prefix or path) or `regex_rewrite` (substitute every match in the path). */
export type PathRewrite =
  | { readonly kind: 'prefix'; readonly matchedLength: number; readonly replacement: string }
  | {
      readonly kind: 'regex';
      readonly pattern: RegExp;
      /** JS replacement string (RE2's `\\1` written as `$1`). */
      readonly substitution: string;
    };

/** The parts of `retry_policy` the router will honour (kept compiled for the retry stage). */
export interface RetryPolicy {
  readonly retryOn: readonly string[];
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: readonly number[];
  readonly retryHostPredicates: readonly string[];
  readonly hostSelectionRetryMaxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** `redirect`: answered locally with a Location. */
export interface RedirectAction {
  readonly kind: 'redirect';
  readonly status: number;
  readonly scheme: string | null;
  readonly host: string | null;
  readonly port: number | null;
  /** `path_redirect` (may carry its own query). */
  readonly path: string | null;
  readonly pathRewrite: PathRewrite | null;
  readonly stripQuery: boolean;
}

/** `direct_response`: answered locally with a fixed status and body. */
export interface DirectResponseAction {
  readonly kind: 'direct';
  readonly status: number;
  readonly body: Buffer | null;
}
