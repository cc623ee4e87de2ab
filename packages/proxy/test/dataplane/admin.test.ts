import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sidecar } from '../../src/sidecar.js';
import { request } from './helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, toCluster, vhost } from './helpers/resources.js';
import { echoServer, type TestServer } from './helpers/servers.js';

let upstream: TestServer;
let sidecar: Sidecar;
let admin: number;
let health: number;
const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

const get = (port: number, path: string) => request(port, path, { agent: false });

beforeAll(async () => {
  upstream = await echoServer('reviews');
  sidecar = new Sidecar({ podIp: '127.0.0.1', ports: { outbound: 0, inbound: 0, admin: 0, health: 0 } });
  await sidecar.start();
  admin = sidecar.adminAddress().port;
  health = sidecar.healthAddress().port;
});

afterAll(async () => {
  await sidecar.close(500);
  await upstream.close();
});

describe('admin and health endpoints', () => {
  it('are not ready before the first config, and ready after setReady', async () => {
    expect((await get(admin, '/ready')).status).toBe(503);
    expect((await get(health, '/healthz/ready')).status).toBe(503);
    sidecar.apply(
      snapshot({
        version: '2026-01-01T00:00:00Z/7',
        listeners: [listener('virtualOutbound', 15001, 'outbound')],
        routes: [routeConfig('outbound', [vhost('reviews', ['reviews:9080'], [toCluster({ prefix: '/' }, CLUSTER)])])],
        clusters: [edsCluster(CLUSTER)],
        endpoints: [cla(CLUSTER, [{ port: upstream.port }, { address: '127.0.0.9', port: 1, health: 'UNHEALTHY' }])],
      }),
    );
    await sidecar.settled();
    sidecar.setReady();
    const ready = await get(admin, '/ready');
    expect([ready.status, ready.body]).toEqual([200, 'LIVE\n']);
    expect((await get(health, '/healthz/ready')).status).toBe(200);
  });

  it('dumps the accepted config with versions, Envoy style', async () => {
    const dump = JSON.parse((await get(admin, '/config_dump')).body) as { configs: EnvoyJson[] };
    const types = dump.configs.map((c) => String(c['@type']).split('.').pop());
    expect(types).toEqual(['ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump']);
    const clusters = dump.configs[0]!;
    expect(clusters.version_info).toBe('2026-01-01T00:00:00Z/7');
    const active = (clusters.dynamic_active_clusters as EnvoyJson[])[0]!;
    expect((active.cluster as EnvoyJson).name).toBe(CLUSTER);
    expect((active.cluster as EnvoyJson)['@type']).toBe('type.googleapis.com/envoy.config.cluster.v3.Cluster');
    expect(typeof active.last_updated).toBe('string');
    const l = (dump.configs[1]!.dynamic_listeners as EnvoyJson[])[0]!;
    expect(l.name).toBe('virtualOutbound');
    const withEds = JSON.parse((await get(admin, '/config_dump?include_eds')).body) as { configs: EnvoyJson[] };
    const eds = withEds.configs[3]!;
    expect(String(eds['@type'])).toMatch(/EndpointsConfigDump$/);
    expect(((eds.dynamic_endpoint_configs as EnvoyJson[])[0]!.endpoint_config as EnvoyJson).cluster_name).toBe(CLUSTER);
  });

  it("lists cluster endpoints with health and active requests in Envoy's text and JSON formats", async () => {
    const port = sidecar.listenerAddress('virtualOutbound')!.port;
    for (let i = 0; i < 3; i++) expect((await request(port, '/', { headers: { host: 'reviews:9080' } })).status).toBe(200);
    const text = (await get(admin, '/clusters')).body.split('\n');
    const host = `${CLUSTER}::127.0.0.1:${upstream.port}`;
    expect(text).toContain(`${host}::rq_active::0`);
    expect(text).toContain(`${host}::rq_total::3`);
    expect(text).toContain(`${host}::rq_success::3`);
    expect(text).toContain(`${host}::health_flags::healthy`);
    expect(text).toContain(`${host}::cx_active::1`);
    expect(text).toContain(`${CLUSTER}::127.0.0.9:1::health_flags::/failed_eds_health`);
    const json = JSON.parse((await get(admin, '/clusters?format=json')).body) as { cluster_statuses: EnvoyJson[] };
    const status = json.cluster_statuses.find((c) => c.name === CLUSTER)!;
    const hosts = status.host_statuses as EnvoyJson[];
    expect(hosts.map((h) => (h.health_status as EnvoyJson).eds_health_status)).toEqual(['UNKNOWN', 'UNHEALTHY']);
    const stats = hosts[0]!.stats as EnvoyJson[];
    expect(stats.find((s) => s.name === 'rq_total')!.value).toBe('3');
    expect(stats.find((s) => s.name === 'rq_active')).toEqual({ type: 'GAUGE', name: 'rq_active', value: '0' });
  });

  it('404s unknown admin paths', async () => {
    expect((await get(admin, '/nope')).status).toBe(404);
  });
});
