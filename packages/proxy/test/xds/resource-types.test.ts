import { describe, expect, it } from 'vitest';
import { encodeAny, EXTENSION_TYPE_URL, TYPE_URL, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';
import { RESOURCE_TYPES } from '../../src/xds/resource-types/index.js';
import { edsCluster, hcm, loadAssignment, rdsListener, routeConfig, staticCluster } from './fixtures.js';

/** Encodes like the control plane does, then decodes like the sidecar does. */
function roundTrip(kind: ResourceKind, resource: EnvoyJson) {
  return RESOURCE_TYPES[kind].decode(encodeAny(TYPE_URL[kind], resource), 0);
}

function errorOf(kind: ResourceKind, resource: EnvoyJson): string {
  const r = roundTrip(kind, resource);
  if (r.ok) throw new Error(`expected ${kind} to be rejected`);
  return r.error;
}

describe('listener resources', () => {
  it('names the RDS route configs of filter chains, the default chain and an api_listener', () => {
    const l = rdsListener('l', 80, 'r1') as any;
    l.default_filter_chain = { filters: [{ name: 'hcm', typed_config: hcm('r2') }] };
    l.api_listener = { api_listener: hcm('r3') };
    const r = roundTrip('listener', l);
    if (!r.ok) throw new Error(r.error);
    expect(r.name).toBe('l');
    expect(RESOURCE_TYPES.listener.dependencies(r.value)).toEqual(['r1', 'r2', 'r3']);
  });

  it('rejects an RDS reference without a name or not over ADS', () => {
    const l = rdsListener('l', 80, '') as any;
    l.filter_chains[0].filters[0].typed_config.rds.config_source = { path_config_source: { path: '/etc/routes.yaml' } };
    expect(errorOf('listener', l)).toBe(
      'listener l: filter_chains[0].filters[0].typed_config.rds.route_config_name: must not be empty; ' +
        'listener l: filter_chains[0].filters[0].typed_config.rds.config_source: must be ads: the sidecar fetches routes only over ADS',
    );
  });

  it('rejects an HCM with no routes at all, and a router that is not the last HTTP filter', () => {
    const l = rdsListener('l', 80, 'r') as any;
    const manager = l.filter_chains[0].filters[0].typed_config;
    delete manager.rds;
    manager.http_filters = [
      manager.http_filters[0],
      { name: 'envoy.filters.http.fault', typed_config: { '@type': EXTENSION_TYPE_URL.fault } },
    ];
    expect(errorOf('listener', l)).toBe(
      'listener l: filter_chains[0].filters[0].typed_config: an HttpConnectionManager needs rds or route_config; ' +
        'listener l: filter_chains[0].filters[0].typed_config.http_filters[0]: the terminal filter envoy.filters.http.router must be the last HTTP filter; ' +
        'listener l: filter_chains[0].filters[0].typed_config.http_filters[1]: non-terminal filter envoy.filters.http.fault is the last HTTP filter (the router must be)',
    );
  });

  it('rejects a listener without a name, by position', () => {
    expect(errorOf('listener', { address: { socket_address: { address: '0.0.0.0', port_value: 1 } } })).toBe(
      'listener #0: name: must not be empty',
    );
  });

  it('rejects a resource of another type in the response', () => {
    const r = RESOURCE_TYPES.listener.decode(encodeAny(TYPE_URL.cluster, staticCluster('c')), 3);
    expect(r).toEqual({ ok: false, error: `listener #3: type ${TYPE_URL.cluster} in a response for ${TYPE_URL.listener}` });
  });

  it('rejects bytes that are not a Listener', () => {
    const r = RESOURCE_TYPES.listener.decode({ type_url: TYPE_URL.listener, value: new Uint8Array([0x0a, 0x05, 0x61]) }, 1);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^listener #1: does not decode: /);
  });
});

describe('route resources', () => {
  it('accepts an Istio-like route configuration', () => {
    const r = roundTrip('route', routeConfig('80', 'outbound|80||a'));
    expect(r.ok && r.name).toBe('80');
  });

  it('rejects duplicate domains, virtual hosts without domains, routes without match or cluster', () => {
    const rc = {
      name: '80',
      virtual_hosts: [
        { name: 'a', domains: ['a.default', 'A.default:80'], routes: [{ match: { prefix: '/' }, route: { cluster: 'x' } }] },
        { name: 'b', domains: ['a.default'], routes: [{ route: { timeout: { seconds: 1 } } }] },
        { name: 'c', routes: [{ match: { path: '/x' } }] },
      ],
    };
    expect(errorOf('route', rc)).toBe(
      [
        'route 80: virtual_hosts[1].domains: domain a.default is already in virtual_hosts[0]',
        'route 80: virtual_hosts[1].routes[0].match: needs a path specifier (prefix, path, safe_regex, ...)',
        'route 80: virtual_hosts[1].routes[0].route: needs a cluster (cluster, cluster_header or weighted_clusters)',
        'route 80: virtual_hosts[2].domains: a virtual host needs at least one domain',
        'route 80: virtual_hosts[2].routes[0]: needs an action (route, redirect or direct_response)',
      ].join('; '),
    );
  });

  it('keeps an empty prefix match (the oneof is set even when empty)', () => {
    const rc = routeConfig('r', 'c') as any;
    rc.virtual_hosts[0].routes[0].match = { prefix: '' };
    expect(roundTrip('route', rc).ok).toBe(true);
  });
});

describe('cluster resources', () => {
  it('names the EDS service, and nothing for other discovery types', () => {
    const eds = roundTrip('cluster', edsCluster('outbound|80||a', 'svc-a'));
    const stat = roundTrip('cluster', staticCluster('blackhole'));
    if (!eds.ok || !stat.ok) throw new Error('expected both to decode');
    expect(RESOURCE_TYPES.cluster.dependencies(eds.value)).toEqual(['svc-a']);
    expect(RESOURCE_TYPES.cluster.dependencies(stat.value)).toEqual([]);
  });

  it('treats a cluster without type as STATIC (the proto default)', () => {
    const r = roundTrip('cluster', { name: 'c', connect_timeout: { seconds: 1 } });
    expect(r.ok).toBe(true);
  });

  it('rejects EDS not over ADS, custom cluster types and unknown discovery types', () => {
    expect(errorOf('cluster', { name: 'e', type: 'EDS' })).toBe(
      'cluster e: eds_cluster_config.eds_config: must be ads: the sidecar fetches endpoints only over ADS',
    );
    expect(
      errorOf('cluster', { name: 'x', cluster_type: { name: 'envoy.clusters.aggregate', typed_config: { '@type': EXTENSION_TYPE_URL.router } } }),
    ).toBe('cluster x: cluster_type: custom cluster types are not supported');
    expect(errorOf('cluster', { name: 'u', type: 42 })).toBe('cluster u: type: unknown discovery type 42');
  });
});

describe('endpoint resources', () => {
  it('names a ClusterLoadAssignment by cluster_name', () => {
    const r = roundTrip('endpoint', loadAssignment('svc-a', ['127.0.0.1', 8080]));
    expect(r.ok && r.name).toBe('svc-a');
  });

  it('rejects endpoints without an address or port, and zero weights', () => {
    const cla = {
      cluster_name: 'svc',
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1' } } } },
            { endpoint: { address: { socket_address: { port_value: 80 } } }, load_balancing_weight: { value: 0 } },
            { endpoint_name: 'named' },
          ],
        },
      ],
    };
    expect(errorOf('endpoint', cla)).toBe(
      [
        'endpoint svc: endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: must be a port from 1 to 65535',
        'endpoint svc: endpoints[0].lb_endpoints[1].endpoint.address.socket_address.address: must not be empty',
        'endpoint svc: endpoints[0].lb_endpoints[1].load_balancing_weight: must be at least 1',
        'endpoint svc: endpoints[0].lb_endpoints[2].endpoint.address.socket_address: an endpoint needs a socket address',
      ].join('; '),
    );
  });

  it('rejects a load assignment without cluster_name', () => {
    expect(errorOf('endpoint', { endpoints: [] })).toBe('endpoint #0: cluster_name: must not be empty');
  });
});
