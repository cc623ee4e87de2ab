import type { EnvoyJson } from '@trellis/envoy-api';
import { compileHeaderMatcher } from '../../config/compile-matchers.js';
import { Where, durationMs, enumName, list, num, obj, oneofKey, rejectNonEmpty, str, wrappedNum } from '../../config/envoy-values.js';
import type { RouteMatcher } from '../../router/route.js';

/** Envoy's headers for faults controlled by the request (`header_delay`, `header_abort`). */
export const FaultHeaders = {
  delay: 'x-envoy-fault-delay-request',
  delayPercentage: 'x-envoy-fault-delay-request-percentage',
  abort: 'x-envoy-fault-abort-request',
  abortGrpc: 'x-envoy-fault-abort-grpc-request',
  abortPercentage: 'x-envoy-fault-abort-request-percentage',
  downstreamNode: 'x-envoy-downstream-service-node',
} as const;

/** How often a fault fires: numerator over denominator (kept apart for the percentage headers). */
export interface FaultPercentage {
  readonly numerator: number;
  readonly denominator: number;
}

/** A delay: a fixed duration, or whatever `x-envoy-fault-delay-request` says (`fixedMs` null). */
export interface FaultDelay {
  readonly fixedMs: number | null;
  readonly percentage: FaultPercentage;
}

/**
 * An abort: an HTTP status, a gRPC status (answered as HTTP 200 with `grpc-status` to gRPC requests), or
 * the status the request's abort headers ask for (`fromHeaders`).
 */
export interface FaultAbort {
  readonly httpStatus: number | null;
  readonly grpcStatus: number | null;
  readonly fromHeaders: boolean;
  readonly percentage: FaultPercentage;
}

/**
 * A compiled envoy.extensions.filters.http.fault.v3.HTTPFault: the filter's own config, or a route's
 * per-filter config (which replaces it whole for that route, as in Envoy). The `*_runtime` keys are
 * accepted: Trellis has no runtime layer, so the configured values always apply.
 */
export class FaultSettings {
  constructor(
    readonly delay: FaultDelay | null,
    readonly abort: FaultAbort | null,
    /** The fault applies only when the route's cluster is this one. */
    readonly upstreamCluster: string | null,
    /** The fault applies only to requests matching all of these. */
    readonly headers: readonly RouteMatcher[],
    /** The fault applies only when `x-envoy-downstream-service-node` is one of these. */
    readonly downstreamNodes: ReadonlySet<string> | null,
    /** No new fault while this many faulted requests are in flight (null: no limit). */
    readonly maxActiveFaults: number | null,
  ) {}

  /** True when the settings can never inject anything (the HCM's empty HTTPFault, as Istio sends it). */
  get empty(): boolean {
    return this.delay === null && this.abort === null;
  }
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

export function compileFaultSettings(where: Where, f: EnvoyJson, field: string): FaultSettings {
  rejectNonEmpty(where, f, field, { response_rate_limit: 'response rate limiting is not supported' });
  const headers = list(where, f.headers, `${field}headers`).map((h, i) => compileHeaderMatcher(where, h, `${field}headers[${i}]`));
  const nodes = list(where, f.downstream_nodes, `${field}downstream_nodes`).map((n, i) => str(where, n, `${field}downstream_nodes[${i}]`) ?? '');
  const max = wrappedNum(where, f.max_active_faults, `${field}max_active_faults`);
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) where.reject(`${field}max_active_faults`, `invalid value ${max}`);
  return new FaultSettings(
    compileDelay(where, f.delay, `${field}delay`),
    compileAbort(where, f.abort, `${field}abort`),
    str(where, f.upstream_cluster, `${field}upstream_cluster`) || null,
    headers,
    nodes.length > 0 ? new Set(nodes) : null,
    max ?? null,
  );
}

function compileDelay(where: Where, v: unknown, field: string): FaultDelay | null {
  const d = obj(where, v, field);
  if (!d) return null;
  const kind = oneofKey(d, ['fixed_delay', 'header_delay'] as const);
  if (kind === undefined) return where.reject(field, 'one of fixed_delay, header_delay is required');
  const fixedMs = kind === 'fixed_delay' ? (durationMs(where, d.fixed_delay, `${field}.fixed_delay`) ?? 0) : null;
  return { fixedMs, percentage: percentage(where, d.percentage, `${field}.percentage`) };
}

function compileAbort(where: Where, v: unknown, field: string): FaultAbort | null {
  const a = obj(where, v, field);
  if (!a) return null;
  const kind = oneofKey(a, ['http_status', 'grpc_status', 'header_abort'] as const);
  if (kind === undefined) return where.reject(field, 'one of http_status, grpc_status, header_abort is required');
  const code = kind === 'header_abort' ? null : (num(where, a[kind], `${field}.${kind}`) ?? 0);
  if (kind === 'http_status' && !(Number.isInteger(code) && code! >= 200 && code! < 600)) {
    where.reject(`${field}.http_status`, `invalid status ${code} (must be 200-599)`);
  }
  if (kind === 'grpc_status' && !(Number.isInteger(code) && code! >= 0)) where.reject(`${field}.grpc_status`, `invalid gRPC status ${code}`);
  return {
    httpStatus: kind === 'http_status' ? code : null,
    grpcStatus: kind === 'grpc_status' ? code : null,
    fromHeaders: kind === 'header_abort',
    percentage: percentage(where, a.percentage, `${field}.percentage`),
  };
}

/** An unset percentage is the proto's empty FractionalPercent: 0, never (Istio documents the same). */
function percentage(where: Where, v: unknown, field: string): FaultPercentage {
  const p = obj(where, v, field);
  if (!p) return { numerator: 0, denominator: 100 };
  const numerator = num(where, p.numerator, `${field}.numerator`) ?? 0;
  if (!Number.isInteger(numerator) || numerator < 0) where.reject(`${field}.numerator`, `invalid numerator ${numerator}`);
  const denominator = DENOMINATORS[enumName(where, p.denominator, `${field}.denominator`, ['HUNDRED', 'TEN_THOUSAND', 'MILLION'], 'HUNDRED')];
  return { numerator, denominator };
}
