import { describe, expect, test } from 'vitest';
import { config, obj } from '../registry/config-helpers.js';
import { gen, input, must, proxy } from './helpers.js';

const reviews = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] });

describe('sidecar listeners', () => {
  const listeners = gen(input(config(reviews)), 'listener');

  test('virtualOutbound and virtualInbound, each with an HCM fetching its routes over ADS', () => {
    expect([...listeners.keys()]).toEqual(['virtualOutbound', 'virtualInbound']);
    for (const [name, port, direction] of [['virtualOutbound', 15001, 'OUTBOUND'], ['virtualInbound', 15006, 'INBOUND']] as const) {
      const l: any = must(listeners.get(name));
      expect(l.address).toEqual({ socket_address: { address: '127.0.1.100', port_value: port } });
      expect(l.traffic_direction).toBe(direction);
      const [filter] = l.filter_chains[0].filters;
      expect(filter.name).toBe('envoy.filters.network.http_connection_manager');
      expect(filter.typed_config).toMatchObject({
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: name,
        rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: name },
        upgrade_configs: [{ upgrade_type: 'websocket' }],
      });
    }
  });

  test('a sidecar that announced other listener ports gets its listeners there', () => {
    const moved = gen(input(config(reviews), [], proxy({ listenerPorts: { outbound: 25001, inbound: 25006 } })), 'listener');
    expect((moved.get('virtualOutbound') as any).address.socket_address.port_value).toBe(25001);
    expect((moved.get('virtualInbound') as any).address.socket_address.port_value).toBe(25006);
  });

  test('HTTP filters: fault, optional CORS, router last, each a typed Any', () => {
    const l: any = listeners.get('virtualOutbound');
    expect(l.filter_chains[0].filters[0].typed_config.http_filters).toEqual([
      { name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
      { name: 'envoy.filters.http.cors', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' }, is_optional: true },
      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
    ]);
  });

  test('no known IP: bind 0.0.0.0; routers get no capture listeners (gateway.test.ts has theirs); named requests filter', () => {
    expect((gen(input(config(), [], proxy({ ips: [] })), 'listener').get('virtualOutbound') as any).address.socket_address.address).toBe('0.0.0.0');
    expect([...gen(input(config(), [], proxy({ type: 'router' })), 'listener').keys()]).toEqual([]);
    expect([...gen(input(config(reviews)), 'listener', ['virtualInbound', 'nope']).keys()]).toEqual(['virtualInbound']);
  });
});
