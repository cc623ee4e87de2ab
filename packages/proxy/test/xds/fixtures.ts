import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';

/** Hand-made Envoy resources in object form, shaped like Istio's, for the control plane to serve. */

const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' };

export function hcm(routeConfigName: string): EnvoyJson {
  return {
    '@type': EXTENSION_TYPE_URL.httpConnectionManager,
    stat_prefix: 'outbound',
    rds: { route_config_name: routeConfigName, config_source: ADS_SOURCE },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': EXTENSION_TYPE_URL.router } }],
  };
}

/** A listener whose HTTP connection manager takes its routes from RDS `routeConfigName`. */
export function rdsListener(name: string, port: number, routeConfigName: string): EnvoyJson {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(routeConfigName) }] }],
  };
}

/** A listener with its routes inline (no RDS subscription). */
export function inlineRouteListener(name: string, port: number, cluster: string): EnvoyJson {
  const manager = { ...hcm('unused') };
  delete manager.rds;
  manager.route_config = routeConfig(`${name}-inline`, cluster);
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: manager }] }],
  };
}

export function routeConfig(name: string, cluster: string): EnvoyJson {
  return {
    name,
    virtual_hosts: [{ name: `${cluster}-vh`, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
  };
}

/** An EDS cluster, Istio-style: endpoints under `serviceName`. */
export function edsCluster(name: string, serviceName = name): EnvoyJson {
  return {
    name,
    type: 'EDS',
    connect_timeout: { seconds: 10 },
    eds_cluster_config: { service_name: serviceName, eds_config: ADS_SOURCE },
  };
}

export function staticCluster(name: string): EnvoyJson {
  return { name, type: 'STATIC', connect_timeout: { seconds: 1 } };
}

export function loadAssignment(clusterName: string, ...addresses: [string, number][]): EnvoyJson {
  return {
    cluster_name: clusterName,
    endpoints: [
      {
        lb_endpoints: addresses.map(([address, port_value]) => ({
          endpoint: { address: { socket_address: { address, port_value } } },
        })),
      },
    ],
  };
}
