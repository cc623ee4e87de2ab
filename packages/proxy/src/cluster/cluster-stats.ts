/**
 * A cluster's counters and gauges under Envoy's names (`cluster.<name>.upstream_rq_pending_overflow`
 * is `upstreamRqPendingOverflow` here). One per cluster name, kept across snapshot swaps; admin /stats
 * prints them through CLUSTER_STAT_NAMES.
 */
export class ClusterStats {
  // connections (the cluster's upstream connection pools)
  upstreamCxTotal = 0;
  upstreamCxActive = 0;
  upstreamCxConnectFail = 0;
  /** A request needed a new connection but max_connections was reached. */
  upstreamCxOverflow = 0;
  // requests
  upstreamRqTotal = 0;
  upstreamRqActive = 0;
  upstreamRqPendingTotal = 0;
  upstreamRqPendingActive = 0;
  /** Requests refused by max_pending_requests or max_requests (Envoy counts both here). */
  upstreamRqPendingOverflow = 0;
  upstreamRqTimeout = 0;
  upstreamRqPerTryTimeout = 0;
  // retries
  upstreamRqRetry = 0;
  upstreamRqRetrySuccess = 0;
  upstreamRqRetryOverflow = 0;
  upstreamRqRetryLimitExceeded = 0;
  upstreamRqRetryBackoffExponential = 0;
  // load balancing
  /** Host picks made while the healthy share was below healthy_panic_threshold. */
  lbHealthyPanic = 0;
  // outlier detection
  outlierDetectionEjectionsActive = 0;
  /** Deprecated in Envoy but still printed: ejections by consecutive 5xx or success rate, enforced or not. */
  outlierDetectionEjectionsTotal = 0;
  outlierDetectionEjectionsEnforcedTotal = 0;
  /** Ejections refused by max_ejection_percent. */
  outlierDetectionEjectionsOverflow = 0;
  outlierDetectionEjectionsDetectedConsecutive5xx = 0;
  outlierDetectionEjectionsEnforcedConsecutive5xx = 0;
  outlierDetectionEjectionsDetectedConsecutiveGatewayFailure = 0;
  outlierDetectionEjectionsEnforcedConsecutiveGatewayFailure = 0;
  outlierDetectionEjectionsDetectedConsecutiveLocalOriginFailure = 0;
  outlierDetectionEjectionsEnforcedConsecutiveLocalOriginFailure = 0;
  outlierDetectionEjectionsDetectedSuccessRate = 0;
  outlierDetectionEjectionsEnforcedSuccessRate = 0;
  outlierDetectionEjectionsDetectedFailurePercentage = 0;
  outlierDetectionEjectionsEnforcedFailurePercentage = 0;
  outlierDetectionEjectionsDetectedLocalOriginSuccessRate = 0;
  outlierDetectionEjectionsEnforcedLocalOriginSuccessRate = 0;
  outlierDetectionEjectionsDetectedLocalOriginFailurePercentage = 0;
  outlierDetectionEjectionsEnforcedLocalOriginFailurePercentage = 0;
}

export type ClusterStatName = { [K in keyof ClusterStats]: ClusterStats[K] extends number ? K : never }[keyof ClusterStats];

/** Envoy's stat name (after `cluster.<name>.`) for each field, in Envoy's alphabetical order. */
export const CLUSTER_STAT_NAMES: readonly (readonly [string, ClusterStatName])[] = (
  [
    ['lb_healthy_panic', 'lbHealthyPanic'],
    ['outlier_detection.ejections_active', 'outlierDetectionEjectionsActive'],
    ['outlier_detection.ejections_detected_consecutive_5xx', 'outlierDetectionEjectionsDetectedConsecutive5xx'],
    ['outlier_detection.ejections_detected_consecutive_gateway_failure', 'outlierDetectionEjectionsDetectedConsecutiveGatewayFailure'],
    ['outlier_detection.ejections_detected_consecutive_local_origin_failure', 'outlierDetectionEjectionsDetectedConsecutiveLocalOriginFailure'],
    ['outlier_detection.ejections_detected_failure_percentage', 'outlierDetectionEjectionsDetectedFailurePercentage'],
    ['outlier_detection.ejections_detected_local_origin_failure_percentage', 'outlierDetectionEjectionsDetectedLocalOriginFailurePercentage'],
    ['outlier_detection.ejections_detected_local_origin_success_rate', 'outlierDetectionEjectionsDetectedLocalOriginSuccessRate'],
    ['outlier_detection.ejections_detected_success_rate', 'outlierDetectionEjectionsDetectedSuccessRate'],
    ['outlier_detection.ejections_enforced_consecutive_5xx', 'outlierDetectionEjectionsEnforcedConsecutive5xx'],
    ['outlier_detection.ejections_enforced_consecutive_gateway_failure', 'outlierDetectionEjectionsEnforcedConsecutiveGatewayFailure'],
    ['outlier_detection.ejections_enforced_consecutive_local_origin_failure', 'outlierDetectionEjectionsEnforcedConsecutiveLocalOriginFailure'],
    ['outlier_detection.ejections_enforced_failure_percentage', 'outlierDetectionEjectionsEnforcedFailurePercentage'],
    ['outlier_detection.ejections_enforced_local_origin_failure_percentage', 'outlierDetectionEjectionsEnforcedLocalOriginFailurePercentage'],
    ['outlier_detection.ejections_enforced_local_origin_success_rate', 'outlierDetectionEjectionsEnforcedLocalOriginSuccessRate'],
    ['outlier_detection.ejections_enforced_success_rate', 'outlierDetectionEjectionsEnforcedSuccessRate'],
    ['outlier_detection.ejections_enforced_total', 'outlierDetectionEjectionsEnforcedTotal'],
    ['outlier_detection.ejections_overflow', 'outlierDetectionEjectionsOverflow'],
    ['outlier_detection.ejections_total', 'outlierDetectionEjectionsTotal'],
    ['upstream_cx_active', 'upstreamCxActive'],
    ['upstream_cx_connect_fail', 'upstreamCxConnectFail'],
    ['upstream_cx_overflow', 'upstreamCxOverflow'],
    ['upstream_cx_total', 'upstreamCxTotal'],
    ['upstream_rq_active', 'upstreamRqActive'],
    ['upstream_rq_pending_active', 'upstreamRqPendingActive'],
    ['upstream_rq_pending_overflow', 'upstreamRqPendingOverflow'],
    ['upstream_rq_pending_total', 'upstreamRqPendingTotal'],
    ['upstream_rq_per_try_timeout', 'upstreamRqPerTryTimeout'],
    ['upstream_rq_retry', 'upstreamRqRetry'],
    ['upstream_rq_retry_backoff_exponential', 'upstreamRqRetryBackoffExponential'],
    ['upstream_rq_retry_limit_exceeded', 'upstreamRqRetryLimitExceeded'],
    ['upstream_rq_retry_overflow', 'upstreamRqRetryOverflow'],
    ['upstream_rq_retry_success', 'upstreamRqRetrySuccess'],
    ['upstream_rq_timeout', 'upstreamRqTimeout'],
    ['upstream_rq_total', 'upstreamRqTotal'],
  ] as const
).map(([n, f]) => [n, f] as const);
