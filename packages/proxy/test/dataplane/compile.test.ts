import type { EnvoyJson } from '@trellis/envoy-api';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../src/config/compile.js';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { FaultSettings } from '../../src/http/filters/fault-settings.js';
import { cla, edsCluster, HTTP_FILTERS, listener, routeConfig, snapshot, staticCluster, toCluster, toWeighted, vhost, type SnapshotSpec } from './helpers/resources.js';

/** Compiles and returns the refusal (failing the test when there is none). */
function rejection(spec: SnapshotSpec): ConfigRejected {
  try {
    compileConfig(snapshot(spec));
  } catch (e) {
    if (e instanceof ConfigRejected) return e;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

const base = (): SnapshotSpec => ({
  listeners: [listener('virtualOutbound', 15001, 'r')],
  routes: [routeConfig('r', [vhost('v', ['v'], [toCluster({ prefix: '/' }, 'c')])])],
  clusters: [edsCluster('c')],
  endpoints: [cla('c', [{ port: 8080 }])],
});

describe('compileConfig accepts what the control plane sends', () => {
  it('compiles listeners, routes, clusters and endpoints', () => {
    const c = compileConfig(
      snapshot({
        ...base(),
        clusters: [
          edsCluster('c', { lb: 'LEAST_REQUEST' }),
          edsCluster('g', { h2: true, connectTimeoutMs: 1500 }),
          staticCluster('s', [{ port: 9000, weight: 3, health: 'DEGRADED', targetPort: 9080 }]),
        ],
        endpoints: [cla('c', [{ port: 8080 }, { address: '127.0.0.2', port: 8081, health: 'UNHEALTHY' }])],
      }),
    );
    const l = c.listeners.get('virtualOutbound')!;
    expect(l.address).toEqual({ address: '0.0.0.0', port: 15001 });
    expect(l.hcm.routeConfigName).toBe('r');
    expect(l.hcm.httpFilters.map((f) => f.name)).toEqual(HTTP_FILTERS.map((f) => f.name));
    expect(l.hcm.filterChain.map((f) => f.name)).toEqual(HTTP_FILTERS.map((f) => f.name));
    expect([...l.hcm.upgradeTypes]).toEqual(['websocket']);
    const cc = c.clusters.get('c')!;
    expect(cc.lbPolicy).toBe('LEAST_REQUEST');
    expect(cc.protocol).toBe('http1');
    expect(cc.localities[0]!.endpoints.map((e) => [e.address, e.port, e.health])).toEqual([
      ['127.0.0.1', 8080, 'UNKNOWN'],
      ['127.0.0.2', 8081, 'UNHEALTHY'],
    ]);
    const g = c.clusters.get('g')!;
    expect([g.protocol, g.connectTimeoutMs, g.localities]).toEqual(['http2', 1500, []]);
    const s = c.clusters.get('s')!.localities[0]!.endpoints[0]!;
    expect([s.weight, s.health, s.targetPort]).toEqual([3, 'DEGRADED', 9080]);
  });

  it("follows Envoy on dangling references: they're run-time 503s, not refusals", () => {
    const c = compileConfig(
      snapshot({
        ...base(),
        routes: [routeConfig('r', [vhost('v', ['v'], [toWeighted({ prefix: '/' }, [['c', 50], ['nowhere', 50]])])])],
        clusters: [edsCluster('c'), edsCluster('no-endpoints-yet')],
      }),
    );
    expect(c.clusters.get('no-endpoints-yet')!.localities).toEqual([]);
    expect(c.routeConfigs.get('r')!.findVirtualHost('v')!.routes).toHaveLength(1);
  });

  it('skips an unknown filter marked optional', () => {
    const optional = {
      name: 'lua',
      is_optional: true,
      typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' },
    };
    const c = compileConfig(snapshot({ ...base(), listeners: [listener('virtualOutbound', 15001, 'r', { http_filters: [optional, ...HTTP_FILTERS] })] }));
    expect(c.listeners.get('virtualOutbound')!.hcm.httpFilters.map((f) => f.name)).toEqual(HTTP_FILTERS.map((f) => f.name));
  });

  it('compiles typed_per_filter_config for the filters that read it', () => {
    const route = toCluster({ prefix: '/' }, 'c', {}, {
      typed_per_filter_config: {
        'envoy.filters.http.fault': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { http_status: 503, percentage: { numerator: 100 } } },
      },
    });
    const c = compileConfig(snapshot({ ...base(), routes: [routeConfig('r', [vhost('v', ['v'], [route])])] }));
    const cfg = c.routeConfigs.get('r')!.findVirtualHost('v')!.routes[0]!.perFilterConfig.get('envoy.filters.http.fault');
    expect(cfg).toBeInstanceOf(FaultSettings);
    expect((cfg as FaultSettings).abort!.httpStatus).toBe(503);
  });
});

describe('compileConfig refuses what it cannot run, precisely', () => {
  const cases: [string, () => SnapshotSpec, [string, string, string], RegExp][] = [
    [
      'an unsupported lb policy',
      () => ({ ...base(), clusters: [edsCluster('c', { lb: 'CLUSTER_PROVIDED' })] }),
      ['cluster', 'c', 'lb_policy'],
      /lb_policy CLUSTER_PROVIDED is not supported/,
    ],
    [
      'an invalid regex',
      () => ({ ...base(), routes: [routeConfig('r', [vhost('v', ['v'], [toCluster({ safe_regex: { regex: '/(unclosed' } }, 'c')])])] }),
      ['route', 'r', 'virtual_hosts[0].routes[0].match.safe_regex.regex'],
      /invalid regex "\/\(unclosed"/,
    ],
    [
      'a duplicate domain',
      () => ({ ...base(), routes: [routeConfig('r', [vhost('v', ['v', 'a'], []), vhost('w', ['A'], [])])] }),
      ['route', 'r', 'virtual_hosts[1].domains[0]'],
      /Only unique values for domains are permitted. Duplicate entry of domain a in route r/,
    ],
    [
      'a second catch-all domain',
      () => ({ ...base(), routes: [routeConfig('r', [vhost('v', ['*'], []), vhost('w', ['*'], [])])] }),
      ['route', 'r', 'virtual_hosts[1].domains[0]'],
      /Only a single wildcard domain is permitted in route r/,
    ],
    [
      'a wildcard in the middle of a domain',
      () => ({ ...base(), routes: [routeConfig('r', [vhost('v', ['a.*.com'], [])])] }),
      ['route', 'r', 'virtual_hosts[0].domains[0]'],
      /may only lead or trail/,
    ],
    [
      'weights that contradict total_weight',
      () => {
        const r = toWeighted({ prefix: '/' }, [['c', 60], ['c', 30]]);
        ((r.route as EnvoyJson).weighted_clusters as EnvoyJson).total_weight = { value: 100 };
        return { ...base(), routes: [routeConfig('r', [vhost('v', ['v'], [r])])] };
      },
      ['route', 'r', 'virtual_hosts[0].routes[0].route.weighted_clusters.total_weight'],
      /\(90\) must equal total_weight \(100\)/,
    ],
    [
      'a missing router filter',
      () => ({ ...base(), listeners: [listener('virtualOutbound', 15001, 'r', { http_filters: HTTP_FILTERS.slice(0, 2) })] }),
      ['listener', 'virtualOutbound', 'filter_chains[0].filters[0].typed_config.http_filters[1]'],
      /non-terminal filter named envoy.filters.http.cors .* is the last filter/,
    ],
    [
      'an unknown HTTP filter',
      () => ({
        ...base(),
        listeners: [
          listener('virtualOutbound', 15001, 'r', {
            http_filters: [
              {
                name: 'lua',
                typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' },
              },
              HTTP_FILTERS[2],
            ],
          }),
        ],
      }),
      ['listener', 'virtualOutbound', 'filter_chains[0].filters[0].typed_config.http_filters[0]'],
      /HTTP filter envoy.extensions.filters.http.lua.v3.Lua is not supported/,
    ],
    [
      'a hostname in a STATIC cluster',
      () => ({ ...base(), clusters: [staticCluster('c', [{ address: 'reviews', port: 80 }])] }),
      ['cluster', 'c', 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address'],
      /"reviews" is not an IP address/,
    ],
    [
      'a bad endpoint in an EDS resource (reported against the endpoint resource)',
      () => ({ ...base(), endpoints: [cla('c', [{ port: 8080, weight: 1 }, { address: 'not-an-ip', port: 1 }])] }),
      ['endpoint', 'c', 'endpoints[0].lb_endpoints[1].endpoint.address.socket_address.address'],
      /not an IP address/,
    ],
    [
      'a TLS upstream whose certificate comes from SDS',
      () => ({
        ...base(),
        clusters: [
          edsCluster('c', {
            extra: {
              transport_socket: {
                name: 'envoy.transport_sockets.tls',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
                  common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }] },
                },
              },
            },
          }),
        ],
      }),
      ['cluster', 'c', 'transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs'],
      /SDS is not supported/,
    ],
    [
      'an unknown retry_on condition',
      () => ({
        ...base(),
        routes: [routeConfig('r', [vhost('v', ['v'], [toCluster({ prefix: '/' }, 'c', { retry_policy: { retry_on: '5xx,sometimes' } })])])],
      }),
      ['route', 'r', 'virtual_hosts[0].routes[0].route.retry_policy.retry_on'],
      /unknown retry_on condition "sometimes"/,
    ],
    [
      'per-route config no filter takes',
      () => ({
        ...base(),
        routes: [
          routeConfig('r', [
            vhost('v', ['v'], [
              toCluster({ prefix: '/' }, 'c', {}, {
                // The CORS filter's listener-level type, not its per-route CorsPolicy.
                typed_per_filter_config: { 'envoy.filters.http.cors': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } },
              }),
            ]),
          ]),
        ],
      }),
      ['route', 'r', 'virtual_hosts[0].routes[0].typed_per_filter_config[envoy.filters.http.cors]'],
      /per-route config of type envoy.extensions.filters.http.cors.v3.Cors is not supported/,
    ],
    [
      'editing Host through a header list',
      () => ({
        ...base(),
        routes: [routeConfig('r', [vhost('v', ['v'], [toCluster({ prefix: '/' }, 'c', {}, { request_headers_to_add: [{ header: { key: 'Host', value: 'x' } }] })])])],
      }),
      ['route', 'r', 'virtual_hosts[0].routes[0].request_headers_to_add[0].header.key'],
      /may not be modified/,
    ],
    [
      'a header value formatter command',
      () => ({
        ...base(),
        routes: [
          routeConfig('r', [
            vhost('v', ['v'], [toCluster({ prefix: '/' }, 'c', {}, { response_headers_to_add: [{ header: { key: 'x-peer', value: '%DOWNSTREAM_REMOTE_ADDRESS%' } }] })]),
          ]),
        ],
      }),
      ['route', 'r', 'virtual_hosts[0].routes[0].response_headers_to_add[0].header.value'],
      /formatter commands/,
    ],
    [
      'a listener with two filter chains',
      () => {
        const l = listener('virtualOutbound', 15001, 'r');
        (l.filter_chains as EnvoyJson[]).push((l.filter_chains as EnvoyJson[])[0]!);
        return { ...base(), listeners: [l] };
      },
      ['listener', 'virtualOutbound', 'filter_chains'],
      /several filter chains are supported only when they terminate TLS \(got 2\)/,
    ],
  ];

  for (const [what, make, [kind, resource, field], reason] of cases) {
    it(`refuses ${what}`, () => {
      const err = rejection(make());
      expect([err.kind, err.resource, err.field]).toEqual([kind, resource, field]);
      expect(err.message).toMatch(reason);
      expect(err.message.startsWith(`${kind} ${resource}: ${field}: `)).toBe(true);
    });
  }
});
