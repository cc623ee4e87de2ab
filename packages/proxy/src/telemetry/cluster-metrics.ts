import { Counter, Gauge, type Registry } from 'prom-client';
import type { Cluster } from '../cluster/cluster.js';
import type { ClusterStats } from '../cluster/cluster-stats.js';

type StatField = {
  [K in keyof ClusterStats]: ClusterStats[K] extends number ? K : never;
}[keyof ClusterStats];

/**
 * Envoy's cluster stats as Prometheus metrics (`envoy_cluster_<stat>{cluster_name=…}`, the names Envoy's
 * /stats/prometheus gives `cluster.<name>.<stat>`). Counters and gauges by Envoy's types.
 */
const CLUSTER_METRICS: readonly (readonly [stat: string, field: StatField, kind: 'counter' | 'gauge'])[] = [
  ['upstream_rq_total', 'upstreamRqTotal', 'counter'],
  ['upstream_rq_active', 'upstreamRqActive', 'gauge'],
  ['upstream_rq_pending_total', 'upstreamRqPendingTotal', 'counter'],
  ['upstream_rq_pending_active', 'upstreamRqPendingActive', 'gauge'],
  ['upstream_rq_pending_overflow', 'upstreamRqPendingOverflow', 'counter'],
  ['upstream_rq_timeout', 'upstreamRqTimeout', 'counter'],
  ['upstream_rq_per_try_timeout', 'upstreamRqPerTryTimeout', 'counter'],
  ['upstream_rq_retry', 'upstreamRqRetry', 'counter'],
  ['upstream_rq_retry_success', 'upstreamRqRetrySuccess', 'counter'],
  ['upstream_rq_retry_overflow', 'upstreamRqRetryOverflow', 'counter'],
  ['upstream_rq_retry_limit_exceeded', 'upstreamRqRetryLimitExceeded', 'counter'],
  ['upstream_cx_total', 'upstreamCxTotal', 'counter'],
  ['upstream_cx_active', 'upstreamCxActive', 'gauge'],
  ['upstream_cx_connect_fail', 'upstreamCxConnectFail', 'counter'],
  ['upstream_cx_overflow', 'upstreamCxOverflow', 'counter'],
  ['lb_healthy_panic', 'lbHealthyPanic', 'counter'],
  ['outlier_detection_ejections_active', 'outlierDetectionEjectionsActive', 'gauge'],
  ['outlier_detection_ejections_enforced_total', 'outlierDetectionEjectionsEnforcedTotal', 'counter'],
  ['outlier_detection_ejections_overflow', 'outlierDetectionEjectionsOverflow', 'counter'],
];

/**
 * Registers the cluster metrics on `registry`. Values are read from each cluster's ClusterStats when
 * scraped (a collect callback), never written per request; clusters that left the config disappear.
 */
export function registerClusterMetrics(registry: Registry, clusters: () => ReadonlyMap<string, Cluster>): void {
  for (const [stat, field, kind] of CLUSTER_METRICS) {
    const config = { name: `envoy_cluster_${stat}`, help: `Envoy cluster stat ${stat}.`, labelNames: ['cluster_name'] as const, registers: [registry] };
    if (kind === 'counter') {
      new Counter({
        ...config,
        collect(this: Counter<'cluster_name'>) {
          this.reset();
          for (const [name, c] of clusters()) this.inc({ cluster_name: name }, c.stats[field]);
        },
      });
    } else {
      new Gauge({
        ...config,
        collect(this: Gauge<'cluster_name'>) {
          this.reset();
          for (const [name, c] of clusters()) this.set({ cluster_name: name }, c.stats[field]);
        },
      });
    }
  }
}
