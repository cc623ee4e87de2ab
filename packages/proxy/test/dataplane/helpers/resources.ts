import { decodeAny, encodeAny, EXTENSION_TYPE_URL, TYPE_URL, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';
import type { RawSnapshot } from '../../../src/config/raw-snapshot.js';

/**
 * Builders for hand-made Envoy resources, shaped like what the control plane sends. `snapshot()` passes
 * each one through the real codec (encodeAny is strict about field names and enums, decodeAny gives the
 * exact object form the xDS client hands over), so a test can't drift from real xDS.
 */

export const HTTP_FILTERS = [
  { name: 'envoy.filters.http.fault', typed_config: { '@type': EXTENSION_TYPE_URL.fault } },
  { name: 'envoy.filters.http.cors', typed_config: { '@type': EXTENSION_TYPE_URL.cors } },
  { name: 'envoy.filters.http.router', typed_config: { '@type': EXTENSION_TYPE_URL.router } },
];

export function hcm(routeConfigName: string, extra: EnvoyJson = {}): EnvoyJson {
  return {
    '@type': EXTENSION_TYPE_URL.httpConnectionManager,
    stat_prefix: 'outbound_0.0.0.0_15001',
    rds: { route_config_name: routeConfigName, config_source: { ads: {}, resource_api_version: 'V3' } },
    http_filters: HTTP_FILTERS,
    upgrade_configs: [{ upgrade_type: 'websocket' }],
    ...extra,
  };
}

export function listener(name: string, port: number, routeConfigName: string, hcmExtra: EnvoyJson = {}): EnvoyJson {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(routeConfigName, hcmExtra) }] },
    ],
  };
}

export function routeConfig(name: string, virtualHosts: EnvoyJson[], extra: EnvoyJson = {}): EnvoyJson {
  return { name, virtual_hosts: virtualHosts, ...extra };
}

export function vhost(name: string, domains: string[], routes: EnvoyJson[], extra: EnvoyJson = {}): EnvoyJson {
  return { name, domains, routes, ...extra };
}

/** A route to one cluster; `timeout` 0 (Istio's default: no route timeout) unless given. */
export function toCluster(match: EnvoyJson, cluster: string, action: EnvoyJson = {}, extra: EnvoyJson = {}): EnvoyJson {
  return { match, route: { cluster, timeout: { seconds: 0 }, ...action }, ...extra };
}

export function toWeighted(match: EnvoyJson, clusters: [string, number][], action: EnvoyJson = {}): EnvoyJson {
  return {
    match,
    route: {
      weighted_clusters: { clusters: clusters.map(([name, weight]) => ({ name, weight: { value: weight } })) },
      timeout: { seconds: 0 },
      ...action,
    },
  };
}

export interface EndpointSpec {
  address?: string;
  port: number;
  weight?: number;
  health?: string;
  targetPort?: number;
}

/** A ClusterLoadAssignment. */
export function cla(name: string, endpoints: EndpointSpec[]): EnvoyJson {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address ?? '127.0.0.1', port_value: e.port } } },
          ...(e.health ? { health_status: e.health } : {}),
          ...(e.weight ? { load_balancing_weight: { value: e.weight } } : {}),
          ...(e.targetPort ? { metadata: { filter_metadata: { trellis: { fields: { target_port: { numberValue: e.targetPort } } } } } } : {}),
        })),
      },
    ],
  };
}

export interface ClusterSpec {
  lb?: string;
  h2?: boolean;
  connectTimeoutMs?: number;
  extra?: EnvoyJson;
}

/** An EDS cluster (as Istio writes outbound clusters). */
export function edsCluster(name: string, spec: ClusterSpec = {}): EnvoyJson {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { service_name: name, eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: msDuration(spec.connectTimeoutMs ?? 2000),
    lb_policy: spec.lb ?? 'ROUND_ROBIN',
    ...(spec.h2
      ? {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': EXTENSION_TYPE_URL.httpProtocolOptions,
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }
      : {}),
    ...spec.extra,
  };
}

/** A STATIC cluster with its endpoints inline. */
export function staticCluster(name: string, endpoints: EndpointSpec[], spec: ClusterSpec = {}): EnvoyJson {
  const { eds_cluster_config: _eds, ...rest } = edsCluster(name, spec);
  return { ...rest, type: 'STATIC', load_assignment: cla(name, endpoints) };
}

export function msDuration(ms: number): EnvoyJson {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

export interface SnapshotSpec {
  listeners?: EnvoyJson[];
  routes?: EnvoyJson[];
  clusters?: EnvoyJson[];
  endpoints?: EnvoyJson[];
  version?: string;
}

/** A RawSnapshot of the given resources, each round-tripped through the real xDS codec. */
export function snapshot(spec: SnapshotSpec): RawSnapshot {
  const version = spec.version ?? '1';
  const byName = (kind: ResourceKind, list: EnvoyJson[] = []) =>
    new Map(list.map((r) => [String(kind === 'endpoint' ? r.cluster_name : r.name), decodeAny(encodeAny(TYPE_URL[kind], r))]));
  return {
    versions: { cluster: version, endpoint: version, listener: version, route: version },
    resources: {
      cluster: byName('cluster', spec.clusters),
      endpoint: byName('endpoint', spec.endpoints),
      listener: byName('listener', spec.listeners),
      route: byName('route', spec.routes),
    },
  };
}
