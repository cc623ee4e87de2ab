import type { Cluster } from '../cluster/cluster.js';
import type { Host } from '../cluster/host.js';
import type { EnvoyJson } from '@trellis/envoy-api';
import type { UpstreamPools } from '../upstream/upstream-pools.js';

const EDS_HEALTH_FLAGS: Record<string, string> = {
  UNKNOWN: '',
  HEALTHY: '',
  UNHEALTHY: '/failed_eds_health',
  TIMEOUT: '/failed_eds_health',
  DRAINING: '/pending_dynamic_removal',
  DEGRADED: '/degraded_eds_health',
};

/** Envoy's healthFlagsToString: `healthy`, or each flag set (outlier ejection first, as Envoy orders them). */
function healthFlags(h: Host): string {
  const flags = (h.ejected ? '/failed_outlier_check' : '') + EDS_HEALTH_FLAGS[h.health];
  return flags === '' ? 'healthy' : flags;
}

interface HostStat {
  readonly name: string;
  readonly value: number;
  readonly gauge: boolean;
}

function hostStats(h: Host, pools: UpstreamPools): HostStat[] {
  const cx = [pools.peek(h.h1PoolKey)?.stats(), pools.peek(h.h2PoolKey)?.stats()];
  const sum = (k: 'cxActive' | 'cxTotal' | 'cxConnectFail') => cx.reduce((s, p) => s + (p ? p[k] : 0), 0);
  const s = h.stats;
  return [
    { name: 'cx_active', value: sum('cxActive'), gauge: true },
    { name: 'cx_connect_fail', value: sum('cxConnectFail'), gauge: false },
    { name: 'cx_total', value: sum('cxTotal'), gauge: false },
    { name: 'rq_active', value: s.rqActive, gauge: true },
    { name: 'rq_error', value: s.rqError, gauge: false },
    { name: 'rq_success', value: s.rqSuccess, gauge: false },
    { name: 'rq_timeout', value: s.rqTimeout, gauge: false },
    { name: 'rq_total', value: s.rqTotal, gauge: false },
  ];
}

/** Envoy's `/clusters` text: `cluster::host:port::stat::value` lines. */
export function clustersText(clusters: ReadonlyMap<string, Cluster>, pools: UpstreamPools): string {
  const lines: string[] = [];
  for (const name of [...clusters.keys()].sort()) {
    const c = clusters.get(name)!;
    lines.push(`${name}::observability_name::${name}`);
    const od = c.outlierDetector;
    if (od) {
      lines.push(`${name}::outlier::success_rate_average::${od.successRateAverage}`);
      lines.push(`${name}::outlier::success_rate_ejection_threshold::${od.successRateEjectionThreshold}`);
      lines.push(`${name}::outlier::local_origin_success_rate_average::${od.localOriginSuccessRateAverage}`);
      lines.push(`${name}::outlier::local_origin_success_rate_ejection_threshold::${od.localOriginSuccessRateEjectionThreshold}`);
    }
    const r = c.resources;
    lines.push(`${name}::default_priority::max_connections::${r.connections.max}`);
    lines.push(`${name}::default_priority::max_pending_requests::${r.pendingRequests.max}`);
    lines.push(`${name}::default_priority::max_requests::${r.requests.max}`);
    lines.push(`${name}::default_priority::max_retries::${r.retries.max}`);
    lines.push(`${name}::added_via_api::true`);
    for (const h of allHosts(c)) {
      const p = `${name}::${h.address}`;
      for (const st of hostStats(h, pools)) lines.push(`${p}::${st.name}::${st.value}`);
      lines.push(`${p}::hostname::${h.endpoint.hostname}`);
      lines.push(`${p}::health_flags::${healthFlags(h)}`);
      lines.push(`${p}::weight::${h.weight}`);
      lines.push(`${p}::region::${h.locality.region}`);
      lines.push(`${p}::zone::${h.locality.zone}`);
      lines.push(`${p}::sub_zone::${h.locality.subZone}`);
      lines.push(`${p}::canary::false`);
      lines.push(`${p}::priority::${h.priority}`);
      lines.push(`${p}::success_rate::${h.outlier?.successRate ?? -1}`);
      lines.push(`${p}::local_origin_success_rate::${h.outlier?.localOriginSuccessRate ?? -1}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Envoy's `/clusters?format=json` (admin.v3.Clusters). */
export function clustersJson(clusters: ReadonlyMap<string, Cluster>, pools: UpstreamPools): EnvoyJson {
  return {
    cluster_statuses: [...clusters.keys()].sort().map((name) => {
      const c = clusters.get(name)!;
      return {
        name,
        observability_name: name,
        added_via_api: true,
        circuit_breakers: {
          thresholds: [
            {
              max_connections: c.resources.connections.max,
              max_pending_requests: c.resources.pendingRequests.max,
              max_requests: c.resources.requests.max,
              max_retries: c.resources.retries.max,
            },
          ],
        },
        host_statuses: allHosts(c).map((h) => ({
          address: { socket_address: { address: h.ip, port_value: h.port } },
          stats: hostStats(h, pools).map((s) => (s.gauge ? { type: 'GAUGE', name: s.name, value: String(s.value) } : { name: s.name, value: String(s.value) })),
          health_status: { eds_health_status: h.health, ...(h.ejected ? { failed_outlier_check: true } : {}) },
          weight: h.weight,
          hostname: h.endpoint.hostname,
          locality: { region: h.locality.region, zone: h.locality.zone, sub_zone: h.locality.subZone },
          priority: h.priority,
        })),
      };
    }),
  };
}

/** The cluster's endpoints, and the destinations an ORIGINAL_DST cluster has seen. */
function allHosts(c: Cluster): readonly Host[] {
  const dynamic = c.dynamicHosts;
  return dynamic.length === 0 ? c.hosts.allHosts : [...c.hosts.allHosts, ...dynamic];
}
