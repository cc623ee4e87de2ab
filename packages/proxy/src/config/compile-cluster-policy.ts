import type { EnvoyJson } from '@trellis/envoy-api';
import { DEFAULT_THRESHOLDS, type CircuitBreakerThresholds } from '../cluster/resource-manager.js';
import type { SlowStartConfig } from '../cluster/slow-start.js';
import type { ConnectionPoolConfig, LbConfig, LbPolicy, OutlierDetectionConfig } from './compiled-config.js';
import { Where, bool, durationMs, enumName, list, num, obj, rejectNonEmpty, str, wrappedBool, wrappedNum } from './envoy-values.js';

// The traffic-policy half of a Cluster: balancer settings, outlier detection, circuit breakers and
// connection options, with Envoy's defaults and Envoy's validation messages.

const RING_SIZE_LIMIT = 8 * 1024 * 1024;
const DEFAULT_MIN_RING_SIZE = 1024;
const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
const MAGLEV_TABLE_SIZE_LIMIT = 5000011;
const DEFAULT_ORIGINAL_DST_HEADER = 'x-envoy-original-dst-host';
const DEFAULT_CLEANUP_INTERVAL_MS = 5_000;
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** The balancer settings for `lb_policy` (which must suit the cluster's discovery type). */
export function compileLbConfig(where: Where, c: EnvoyJson, policy: LbPolicy): LbConfig {
  const hashing = consistentHashing(where, c);
  switch (policy) {
    case 'ROUND_ROBIN': {
      const rr = obj(where, c.round_robin_lb_config, 'round_robin_lb_config');
      return { kind: 'round_robin', slowStart: rr ? slowStart(where, rr.slow_start_config, 'round_robin_lb_config.slow_start_config') : null };
    }
    case 'RANDOM':
      return { kind: 'random' };
    case 'LEAST_REQUEST':
      return leastRequest(where, obj(where, c.least_request_lb_config, 'least_request_lb_config'));
    case 'RING_HASH':
      return { ...ringHash(where, obj(where, c.ring_hash_lb_config, 'ring_hash_lb_config')), useHostnameForHashing: hashing };
    case 'MAGLEV':
      return { kind: 'maglev', tableSize: maglevTableSize(where, obj(where, c.maglev_lb_config, 'maglev_lb_config')), useHostnameForHashing: hashing };
    case 'CLUSTER_PROVIDED':
      return originalDst(where, c);
  }
}

function consistentHashing(where: Where, c: EnvoyJson): boolean {
  const common = obj(where, c.common_lb_config, 'common_lb_config');
  const ch = common ? obj(where, common.consistent_hashing_lb_config, 'common_lb_config.consistent_hashing_lb_config') : undefined;
  if (!ch) return false;
  const f = 'common_lb_config.consistent_hashing_lb_config';
  if ((wrappedNum(where, ch.hash_balance_factor, `${f}.hash_balance_factor`) ?? 0) > 0) {
    where.reject(`${f}.hash_balance_factor`, 'bounded-load consistent hashing (hash_balance_factor) is not supported');
  }
  return bool(where, ch.use_hostname_for_hashing, `${f}.use_hostname_for_hashing`) ?? false;
}

function leastRequest(where: Where, cfg: EnvoyJson | undefined): LbConfig {
  const f = 'least_request_lb_config';
  const choiceCount = (cfg && wrappedNum(where, cfg.choice_count, `${f}.choice_count`)) ?? 2;
  if (!Number.isInteger(choiceCount) || choiceCount < 2) where.reject(`${f}.choice_count`, `choice_count must be at least 2 (got ${choiceCount})`);
  const biasCfg = cfg ? obj(where, cfg.active_request_bias, `${f}.active_request_bias`) : undefined;
  const bias = biasCfg ? (num(where, biasCfg.default_value, `${f}.active_request_bias.default_value`) ?? 0) : 1;
  if (bias < 0) where.reject(`${f}.active_request_bias`, `active_request_bias must be >= 0 (got ${bias})`);
  const selection = cfg ? enumName(where, cfg.selection_method, `${f}.selection_method`, ['N_CHOICES', 'FULL_SCAN'], 'N_CHOICES') : 'N_CHOICES';
  const fullScan = selection === 'FULL_SCAN' || ((cfg && wrappedBool(where, cfg.enable_full_scan, `${f}.enable_full_scan`)) ?? false);
  const ss = cfg ? slowStart(where, cfg.slow_start_config, `${f}.slow_start_config`) : null;
  return { kind: 'least_request', choiceCount, activeRequestBias: bias, fullScan, slowStart: ss };
}

/** `slow_start_config` (Istio's warmup): window, aggression (default 1), min_weight_percent (default 10). */
function slowStart(where: Where, v: unknown, f: string): SlowStartConfig | null {
  const ss = obj(where, v, f);
  if (!ss) return null;
  const windowMs = durationMs(where, ss.slow_start_window, `${f}.slow_start_window`) ?? 0;
  if (windowMs <= 0) return null;
  const aggressionCfg = obj(where, ss.aggression, `${f}.aggression`);
  const aggression = aggressionCfg ? (num(where, aggressionCfg.default_value, `${f}.aggression.default_value`) ?? 1) : 1;
  if (!(aggression > 0)) where.reject(`${f}.aggression`, `aggression must be greater than 0 (got ${aggression})`);
  const minPct = obj(where, ss.min_weight_percent, `${f}.min_weight_percent`);
  const minWeightPercent = minPct ? (num(where, minPct.value, `${f}.min_weight_percent.value`) ?? 0) : 10;
  return { windowMs, aggression, minWeightPercent };
}

function ringHash(where: Where, cfg: EnvoyJson | undefined): Omit<Extract<LbConfig, { kind: 'ring_hash' }>, 'useHostnameForHashing'> {
  const f = 'ring_hash_lb_config';
  if (cfg) {
    const fn = enumName(where, cfg.hash_function, `${f}.hash_function`, ['XX_HASH', 'MURMUR_HASH_2'], 'XX_HASH');
    if (fn !== 'XX_HASH') where.reject(`${f}.hash_function`, `hash function ${fn} is not supported (XX_HASH only)`);
  }
  const min = (cfg && wrappedNum(where, cfg.minimum_ring_size, `${f}.minimum_ring_size`)) ?? DEFAULT_MIN_RING_SIZE;
  const max = (cfg && wrappedNum(where, cfg.maximum_ring_size, `${f}.maximum_ring_size`)) ?? RING_SIZE_LIMIT;
  for (const [name, v] of [['minimum_ring_size', min], ['maximum_ring_size', max]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > RING_SIZE_LIMIT) where.reject(`${f}.${name}`, `${name} must be between 1 and ${RING_SIZE_LIMIT} (got ${v})`);
  }
  if (min > max) where.reject(f, `ring hash: minimum_ring_size (${min}) > maximum_ring_size (${max})`);
  return { kind: 'ring_hash', minimumRingSize: min, maximumRingSize: max };
}

function maglevTableSize(where: Where, cfg: EnvoyJson | undefined): number {
  const size = (cfg && wrappedNum(where, cfg.table_size, 'maglev_lb_config.table_size')) ?? DEFAULT_MAGLEV_TABLE_SIZE;
  if (!Number.isInteger(size) || size > MAGLEV_TABLE_SIZE_LIMIT) {
    where.reject('maglev_lb_config.table_size', `table_size must be an integer up to ${MAGLEV_TABLE_SIZE_LIMIT} (got ${size})`);
  }
  if (!isPrime(size)) where.reject('maglev_lb_config.table_size', `The table size of maglev must be prime number (got ${size})`);
  return size;
}

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function originalDst(where: Where, c: EnvoyJson): LbConfig {
  const f = 'original_dst_lb_config';
  const cfg = obj(where, c.original_dst_lb_config, f);
  if (cfg) rejectNonEmpty(where, cfg, `${f}.`, { metadata_key: 'the destination from metadata (metadata_key) is not supported' });
  const useHeader = (cfg && bool(where, cfg.use_http_header, `${f}.use_http_header`)) ?? false;
  const headerName = (cfg && str(where, cfg.http_header_name, `${f}.http_header_name`)) || DEFAULT_ORIGINAL_DST_HEADER;
  const port = cfg ? wrappedNum(where, cfg.upstream_port_override, `${f}.upstream_port_override`) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) where.reject(`${f}.upstream_port_override`, `invalid port ${port}`);
  return {
    kind: 'original_dst',
    httpHeaderName: useHeader ? headerName.toLowerCase() : null,
    portOverride: port ?? null,
    cleanupIntervalMs: durationMs(where, c.cleanup_interval, 'cleanup_interval') || DEFAULT_CLEANUP_INTERVAL_MS,
  };
}

/** `outlier_detection` with Envoy's defaults (DetectorConfig); null when absent. */
export function compileOutlierDetection(where: Where, v: unknown): OutlierDetectionConfig | null {
  const od = obj(where, v, 'outlier_detection');
  if (!od) return null;
  const f = 'outlier_detection';
  rejectNonEmpty(where, od, `${f}.`, { monitors: 'outlier detection monitor extensions are not supported' });
  const u32 = (name: string, dflt: number) => wrappedNum(where, od[name], `${f}.${name}`) ?? dflt;
  const percent = (name: string, dflt: number) => {
    const p = u32(name, dflt);
    if (p > 100) where.reject(`${f}.${name}`, `${name} must be at most 100 (got ${p})`);
    return p;
  };
  const ms = (name: string, dflt: number, positive: boolean) => {
    const d = durationMs(where, od[name], `${f}.${name}`);
    if (d === undefined) return dflt;
    if (positive && d <= 0) where.reject(`${f}.${name}`, `${name} must be greater than 0`);
    return d;
  };
  const baseEjectionTimeMs = ms('base_ejection_time', 30_000, true);
  const maxEjectionTimeMs = ms('max_ejection_time', Math.max(300_000, baseEjectionTimeMs), true);
  if (maxEjectionTimeMs < baseEjectionTimeMs) {
    where.reject(`${f}.max_ejection_time`, "outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
  }
  return {
    consecutive5xx: u32('consecutive_5xx', 5),
    consecutiveGatewayFailure: u32('consecutive_gateway_failure', 5),
    consecutiveLocalOriginFailure: u32('consecutive_local_origin_failure', 5),
    enforcingConsecutive5xx: percent('enforcing_consecutive_5xx', 100),
    enforcingConsecutiveGatewayFailure: percent('enforcing_consecutive_gateway_failure', 0),
    enforcingConsecutiveLocalOriginFailure: percent('enforcing_consecutive_local_origin_failure', 100),
    intervalMs: ms('interval', 10_000, true),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: ms('max_ejection_time_jitter', 0, false),
    maxEjectionPercent: Math.min(100, u32('max_ejection_percent', 10)),
    alwaysEjectOneHost: wrappedBool(where, od.always_eject_one_host, `${f}.always_eject_one_host`) ?? false,
    splitExternalLocalOriginErrors: bool(where, od.split_external_local_origin_errors, `${f}.split_external_local_origin_errors`) ?? false,
    successRateMinimumHosts: u32('success_rate_minimum_hosts', 5),
    successRateRequestVolume: u32('success_rate_request_volume', 100),
    successRateStdevFactor: u32('success_rate_stdev_factor', 1900),
    enforcingSuccessRate: percent('enforcing_success_rate', 100),
    enforcingLocalOriginSuccessRate: percent('enforcing_local_origin_success_rate', 100),
    failurePercentageThreshold: percent('failure_percentage_threshold', 85),
    failurePercentageMinimumHosts: u32('failure_percentage_minimum_hosts', 5),
    failurePercentageRequestVolume: u32('failure_percentage_request_volume', 50),
    enforcingFailurePercentage: percent('enforcing_failure_percentage', 0),
    enforcingFailurePercentageLocalOrigin: percent('enforcing_failure_percentage_local_origin', 0),
  };
}

/**
 * `circuit_breakers.thresholds`: the DEFAULT-priority entry (Envoy's defaults for what it leaves out, or
 * for the whole thing when absent). Trellis routes everything at DEFAULT priority, so a HIGH entry could
 * never apply and is refused rather than kept.
 */
export function compileCircuitBreakers(where: Where, v: unknown): { thresholds: CircuitBreakerThresholds; perHostMaxConnections: number | null } {
  const cb = obj(where, v, 'circuit_breakers');
  if (!cb) return { thresholds: DEFAULT_THRESHOLDS, perHostMaxConnections: null };
  let thresholds = DEFAULT_THRESHOLDS;
  list(where, cb.thresholds, 'circuit_breakers.thresholds').forEach((t, i) => {
    const f = `circuit_breakers.thresholds[${i}]`;
    const th = obj(where, t, f)!;
    const priority = enumName(where, th.priority, `${f}.priority`, ['DEFAULT', 'HIGH'], 'DEFAULT');
    if (priority === 'HIGH') where.reject(`${f}.priority`, 'route priorities are not supported: only DEFAULT thresholds apply');
    rejectNonEmpty(where, th, `${f}.`, { max_connection_pools: 'max_connection_pools is not supported' });
    const limit = (name: string, dflt: number) => wrappedNum(where, th[name], `${f}.${name}`) ?? dflt;
    const budget = obj(where, th.retry_budget, `${f}.retry_budget`);
    thresholds = {
      maxConnections: limit('max_connections', DEFAULT_THRESHOLDS.maxConnections),
      maxPendingRequests: limit('max_pending_requests', DEFAULT_THRESHOLDS.maxPendingRequests),
      maxRequests: limit('max_requests', DEFAULT_THRESHOLDS.maxRequests),
      maxRetries: limit('max_retries', DEFAULT_THRESHOLDS.maxRetries),
      retryBudget: budget
        ? {
            budgetPercent: wrappedNum(where, budget.budget_percent, `${f}.retry_budget.budget_percent`) ?? 20,
            minRetryConcurrency: wrappedNum(where, budget.min_retry_concurrency, `${f}.retry_budget.min_retry_concurrency`) ?? 3,
          }
        : null,
    };
  });
  let perHost: number | null = null;
  list(where, cb.per_host_thresholds, 'circuit_breakers.per_host_thresholds').forEach((t, i) => {
    const f = `circuit_breakers.per_host_thresholds[${i}]`;
    const th = obj(where, t, f)!;
    for (const field of ['max_pending_requests', 'max_requests', 'max_retries', 'retry_budget']) {
      if (th[field] !== undefined && th[field] !== null) where.reject(`${f}.${field}`, 'per-host thresholds support max_connections only');
    }
    perHost = wrappedNum(where, th.max_connections, `${f}.max_connections`) ?? null;
  });
  return { thresholds, perHostMaxConnections: perHost };
}

/**
 * Connection settings: HttpProtocolOptions' `common_http_protocol_options` (or the deprecated Cluster
 * fields), per-host connection cap, TCP keepalive.
 */
export function compileConnectionPool(where: Where, c: EnvoyJson, perHostMaxConnections: number | null): ConnectionPoolConfig {
  const exts = obj(where, c.typed_extension_protocol_options, 'typed_extension_protocol_options');
  const f = `typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}].common_http_protocol_options`;
  const opts = exts ? obj(where, exts[HTTP_PROTOCOL_OPTIONS], `typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}]`) : undefined;
  const typed = opts ? obj(where, opts.common_http_protocol_options, f) : undefined;
  const common = typed ?? obj(where, c.common_http_protocol_options, 'common_http_protocol_options');
  const cf = typed ? f : 'common_http_protocol_options';
  let idleTimeoutMs: number | null = null;
  let maxRequests = wrappedNum(where, c.max_requests_per_connection, 'max_requests_per_connection');
  if (common) {
    rejectNonEmpty(where, common, `${cf}.`, {
      max_connection_duration: 'max_connection_duration is not supported',
      max_stream_duration: 'max_stream_duration in protocol options is not supported (use the route\'s max_stream_duration)',
    });
    idleTimeoutMs = durationMs(where, common.idle_timeout, `${cf}.idle_timeout`) ?? null;
    maxRequests = wrappedNum(where, common.max_requests_per_connection, `${cf}.max_requests_per_connection`) ?? maxRequests;
  }
  const uco = obj(where, c.upstream_connection_options, 'upstream_connection_options');
  const ka = uco ? obj(where, uco.tcp_keepalive, 'upstream_connection_options.tcp_keepalive') : undefined;
  const kaTime = ka ? wrappedNum(where, ka.keepalive_time, 'upstream_connection_options.tcp_keepalive.keepalive_time') : undefined;
  return {
    idleTimeoutMs,
    maxRequestsPerConnection: maxRequests && maxRequests > 0 ? maxRequests : null,
    maxConnectionsPerHost: perHostMaxConnections,
    tcpKeepaliveTimeMs: ka ? (kaTime ?? 0) * 1000 : null,
  };
}
