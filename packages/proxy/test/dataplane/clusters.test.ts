import http2 from 'node:http2';
import { EXTENSION_TYPE_URL } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request, startSidecar, type RunningSidecar } from './helpers/client.js';
import { edsCluster, listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from './helpers/resources.js';
import { echoServer, h2Server, type Echo, type TestServer } from './helpers/servers.js';

let h1: TestServer;
let h2: TestServer;
let proxy: RunningSidecar;

const followDownstream = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': EXTENSION_TYPE_URL.httpProtocolOptions,
      use_downstream_protocol_config: {},
    },
  },
};

beforeAll(async () => {
  h1 = await echoServer('h1');
  h2 = await h2Server((stream, headers) => {
    stream.respond({ ':status': 200, 'x-proto': 'h2', 'x-path': String(headers[':path']) });
    stream.end('from h2');
  });
  const { eds_cluster_config: _e, ...dnsBase } = edsCluster('dns');
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [
        routeConfig('r', [
          vhost('dns', ['dns'], [toCluster({ prefix: '/' }, 'dns', { auto_host_rewrite: { value: true } })]),
          vhost('follow-h1', ['follow-h1'], [toCluster({ prefix: '/' }, 'follow-h1')]),
          vhost('follow-h2', ['follow-h2'], [toCluster({ prefix: '/' }, 'follow-h2')]),
          vhost('notfound', ['notfound'], [toCluster({ prefix: '/' }, 'nope', { cluster_not_found_response_code: 'NOT_FOUND' })]),
        ]),
      ],
      clusters: [
        {
          ...dnsBase,
          type: 'STRICT_DNS',
          dns_lookup_family: 'V4_ONLY',
          load_assignment: {
            cluster_name: 'dns',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'localhost', port_value: h1.port } } } }] }],
          },
        },
        staticCluster('follow-h1', [{ port: h1.port }], { extra: followDownstream }),
        staticCluster('follow-h2', [{ port: h2.port }], { extra: followDownstream }),
      ],
    }),
  );
});

afterAll(async () => {
  await proxy.close();
  await Promise.all([h1.close(), h2.close()]);
});

describe('cluster discovery and protocols', () => {
  it('resolves STRICT_DNS host names and rewrites Host to them on request', async () => {
    await eventually(() => proxy.sidecar.current.clusters.get('dns')!.hosts.allHosts.length > 0, 5000, 'DNS resolution');
    expect(proxy.sidecar.current.clusters.get('dns')!.hosts.allHosts.map((h) => h.address)).toEqual([`127.0.0.1:${h1.port}`]);
    const r = await request(proxy.port, '/x', { headers: { host: 'dns' } });
    const e = JSON.parse(r.body) as Echo;
    expect(e.name).toBe('h1');
    expect(e.headers.host).toBe('localhost');
  });

  it('speaks the downstream protocol upstream when the cluster says so', async () => {
    const viaH1 = JSON.parse((await request(proxy.port, '/a', { headers: { host: 'follow-h1' } })).body) as Echo;
    expect(viaH1.httpVersion).toBe('1.1');
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const s = session.request({ ':path': '/b', ':authority': 'follow-h2' });
        s.on('response', resolve);
        s.on('error', reject);
        s.resume();
      });
      expect(headers[':status']).toBe(200);
      expect(headers['x-proto']).toBe('h2');
      expect(headers['x-path']).toBe('/b');
    } finally {
      session.close();
    }
  });

  it('answers with cluster_not_found_response_code when the cluster is missing', async () => {
    expect((await request(proxy.port, '/', { headers: { host: 'notfound' } })).status).toBe(404);
    expect(proxy.logs.some((l) => l.responseFlagsString === 'NC' && l.responseCode === 404)).toBe(true);
  });
});
