import type { EnvoyJson } from '@trellis/envoy-api';
import type { HashPolicy } from '../cluster/hash/hash-policy.js';
import type { HeaderMutations } from './header-mutations.js';
import type { RouteRequest } from './route-request.js';

/**
 * A compiled `typed_per_filter_config` entry: the config object the named filter's kind compiled (e.g. the
 * fault filter's FaultSettings), or FILTER_DISABLED for a `FilterConfig { disabled: true }`.
 */
export type RouteFilterConfig = object;

/** `envoy.config.route.v3.FilterConfig.disabled`: the filter is skipped on this route. */
export const FILTER_DISABLED: RouteFilterConfig = Object.freeze({ disabled: true });

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
  /**
   * `typed_per_filter_config` by filter name, compiled; the route's over its virtual host's over its route
   * configuration's (merged field by field where the filter says so, as CORS does).
   */
  readonly perFilterConfig: ReadonlyMap<string, RouteFilterConfig>;
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
  /** `max_grpc_timeout`: gRPC requests take their timeout from `grpc-timeout`, capped here (0: no cap); null: unset. */
  readonly maxGrpcTimeoutMs: number | null;
  /** `grpc_timeout_offset`, subtracted from `grpc-timeout` for the route timeout. */
  readonly grpcTimeoutOffsetMs: number;
  /** `max_stream_duration.grpc_timeout_header_max`: `grpc-timeout` as max stream duration, capped (0: no cap); null: unset. */
  readonly grpcTimeoutHeaderMaxMs: number | null;
  /** `max_stream_duration.grpc_timeout_header_offset`. */
  readonly grpcTimeoutHeaderOffsetMs: number;
  readonly pathRewrite: PathRewrite | null;
  readonly hostRewrite: string | null;
  /** `auto_host_rewrite`: Host becomes the chosen endpoint's hostname (DNS clusters). */
  readonly autoHostRewrite: boolean;
  /** The route's retry policy (else its virtual host's); null when the request is never retried. */
  readonly retryPolicy: RetryPolicy | null;
  /** `request_mirror_policies` (the route's, else its virtual host's): shadow copies of the request. */
  readonly mirrorPolicies: readonly MirrorPolicy[];
  /**
   * How much request body the router keeps for retries and shadows (the route's or virtual host's
   * `per_request_buffer_limit_bytes`, else 64 KiB). A longer body is streamed once: no retry, no shadow.
   */
  readonly bufferLimitBytes: number;
  /** Virtual host `include_request_attempt_count`: `x-envoy-attempt-count` on each upstream attempt. */
  readonly attemptCountInRequest: boolean;
  /** Virtual host `include_attempt_count_in_response`: `x-envoy-attempt-count` on the downstream response. */
  readonly attemptCountInResponse: boolean;
  /** Virtual host `include_is_timeout_retry_header`: `x-envoy-is-timeout-retry` on retries after a per-try timeout. */
  readonly timeoutRetryHeader: boolean;
  /** `hash_policy`, for hashing load balancers (RING_HASH, MAGLEV); null when the route has none. */
  readonly hashPolicy: HashPolicy | null;
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
  /** True when a cluster carries per-filter config: the pick then happens before the filters run, as in Envoy. */
  readonly hasPerFilterConfig: boolean;
}

export interface WeightedCluster {
  readonly name: string;
  readonly weight: number;
  readonly requestHeaderMutations: HeaderMutations | null;
  readonly responseHeaderMutations: HeaderMutations | null;
  /** The weighted cluster's `host_rewrite_literal` (the route's, when it has one, wins as in Envoy). */
  readonly hostRewrite: string | null;
  /** The weighted cluster's own `typed_per_filter_config` (most specific of all levels). */
  readonly perFilterConfig: ReadonlyMap<string, RouteFilterConfig>;
}

/**
 * `prefix_rewrite` (swap the matched prefix or path; on a regex route the whole path, query kept, as in
 * Envoy) or `regex_rewrite` (substitute every match in the path).
 */
export type PathRewrite =
  | {
      readonly kind: 'prefix';
      /** Length of the matched prefix or path; null: the whole path before the query (regex routes). */
      readonly matchedLength: number | null;
      readonly replacement: string;
    }
  | {
      readonly kind: 'regex';
      readonly pattern: RegExp;
      /** JS replacement string (RE2's `\\1` written as `$1`). */
      readonly substitution: string;
    };

/** Envoy's `retry_on` conditions, as bits of RetryPolicy.retryOn. */
export const RetryOn = {
  /** Any 5xx response, and any reset or per-try timeout (Envoy counts those as a 5xx). */
  X5XX: 1 << 0,
  /** 502, 503, 504 responses, and resets / per-try timeouts. */
  GATEWAY_ERROR: 1 << 1,
  /** A reset or per-try timeout: no response at all. */
  RESET: 1 << 2,
  /** The connection to the host could not be made (including its connect timeout). */
  CONNECT_FAILURE: 1 << 3,
  /** 409 Conflict. */
  RETRIABLE_4XX: 1 << 4,
  /** An HTTP/2 REFUSED_STREAM reset. */
  REFUSED_STREAM: 1 << 5,
  /** A status in `retriable_status_codes`. */
  RETRIABLE_STATUS_CODES: 1 << 6,
  /** A response header matching `retriable_headers`. */
  RETRIABLE_HEADERS: 1 << 7,
  /** A response carrying `x-envoy-ratelimited`. */
  ENVOY_RATELIMITED: 1 << 8,
  /** gRPC statuses in the response headers (trailers-only responses). */
  GRPC_CANCELLED: 1 << 9,
  GRPC_DEADLINE_EXCEEDED: 1 << 10,
  GRPC_INTERNAL: 1 << 11,
  GRPC_RESOURCE_EXHAUSTED: 1 << 12,
  GRPC_UNAVAILABLE: 1 << 13,
} as const;

/** A compiled `retry_policy` (the router's retry state reads it; see router/retry-state.ts). */
export interface RetryPolicy {
  /** RetryOn bits. */
  readonly retryOn: number;
  readonly numRetries: number;
  /** 0: no per-try timeout (the route timeout alone bounds the attempts). */
  readonly perTryTimeoutMs: number;
  readonly retriableStatusCodes: readonly number[];
  /** `retriable_headers`, tested against response headers. */
  readonly retriableHeaders: readonly RouteMatcher[];
  /** `retriable_request_headers`: when set, only requests matching one of them are retried. */
  readonly retriableRequestHeaders: readonly RouteMatcher[];
  /** `envoy.retry_host_predicates.previous_hosts`: retries avoid hosts already tried. */
  readonly previousHosts: boolean;
  /** `envoy.retry_priorities.previous_priorities`: retries prefer a priority level not tried yet. */
  readonly previousPriorities: boolean;
  /** Extra host picks allowed when a predicate rejects the host chosen (Envoy's default 1). */
  readonly hostSelectionRetryMaxAttempts: number;
  /** Fully jittered exponential backoff: the n-th retry waits random [0, base·2^(n-1)), capped at max. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** One `request_mirror_policies` entry: a fire-and-forget copy of the request to another cluster. */
export interface MirrorPolicy {
  /** The cluster, or '' when `cluster_header` names it. */
  readonly cluster: string;
  /** Lower-case header naming the cluster (`cluster_header`), or null. */
  readonly clusterHeader: string | null;
  /** `runtime_fraction.default_value` as a probability in [0, 1] (1 when unset). */
  readonly fraction: number;
  /** False with `disable_shadow_host_suffix_append`: the shadow keeps the authority unchanged. */
  readonly appendShadowSuffix: boolean;
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
