import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { listener, msDuration, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents, many, tally, upstream, type Upstream } from './helpers.js';

// Connection-pool options (HttpProtocolOptions' common options, circuit breakers) on HTTP/1 and h2c
// upstreams at 127.0.148.x.

interface H2Upstream {
  port: number;
  sessions: { total: number; open: number };
  close(): Promise<void>;
}

async function h2Upstream(ip: string, delayMs: number): Promise<H2Upstream> {
  const server = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  const sessions = { total: 0, open: 0 };
  server.on('session', (s) => {
    live.add(s);
    sessions.total++;
    sessions.open++;
    s.on('close', () => {
      live.delete(s);
      sessions.open--;
    });
  });
  server.on('stream', (stream) => {
    const reply = () => {
      if (stream.closed) return;
      stream.respond({ ':status': 200, 'x-upstream': 'h2' });
      stream.end('h2');
    };
    setTimeout(reply, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((r) => {
        for (const s of live) s.destroy();
        server.close(() => r());
      }),
  };
}

function protocolOptions(h2: boolean, common: EnvoyJson): EnvoyJson {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': EXTENSION_TYPE_URL.httpProtocolOptions,
        explicit_http_config: h2 ? { http2_protocol_options: {} } : { http_protocol_options: {} },
        common_http_protocol_options: common,
      },
    },
  };
}

let h1: Upstream;
let h2fast: H2Upstream;
let h2slow: H2Upstream;
let proxy: RunningSidecar;

beforeAll(async () => {
  h1 = await upstream('h1', '127.0.148.1');
  h2fast = await h2Upstream('127.0.148.2', 0);
  h2slow = await h2Upstream('127.0.148.3', 150);
  const h1ep = [{ address: h1.ip, port: h1.port }];
  const clusters: [string, EnvoyJson][] = [
    ['h1-idle', staticCluster('h1-idle', h1ep, { extra: protocolOptions(false, { idle_timeout: msDuration(100) }) })],
    ['h1-max3', staticCluster('h1-max3', h1ep, { extra: protocolOptions(false, { max_requests_per_connection: { value: 3 } }) })],
    ['h2-max2', staticCluster('h2-max2', [{ address: '127.0.148.2', port: h2fast.port }], { extra: protocolOptions(true, { max_requests_per_connection: { value: 2 } }) })],
    ['h2-idle', staticCluster('h2-idle', [{ address: '127.0.148.2', port: h2fast.port }], { extra: protocolOptions(true, { idle_timeout: msDuration(100) }) })],
    [
      'h2-limit',
      staticCluster('h2-limit', [{ address: '127.0.148.3', port: h2slow.port }], {
        extra: { ...protocolOptions(true, {}), circuit_breakers: { thresholds: [{ max_requests: { value: 1 } }] } },
      }),
    ],
  ];
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [routeConfig('r', clusters.map(([name]) => vhost(name, [name], [toCluster({ prefix: '/' }, name)])))],
      clusters: clusters.map(([, c]) => c),
    }),
  );
});

afterAll(async () => {
  closeAgents();
  await proxy.close();
  await Promise.all([h1.close(), h2fast.close(), h2slow.close()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP/1 pool options', () => {
  it('idle_timeout 100 ms closes an idle upstream connection (the default keeps it for 4 s)', async () => {
    const before = h1.connections.total;
    expect((await call(proxy.port, 'h1-idle')).status).toBe(200);
    expect(h1.connections.total).toBe(before + 1);
    expect(h1.connections.open).toBe(1);
    await sleep(400);
    expect(h1.connections.open).toBe(0);
  });

  it('max_requests_per_connection 3: nine sequential requests use three connections', async () => {
    const before = h1.connections.total;
    for (let i = 0; i < 9; i++) expect((await call(proxy.port, 'h1-max3')).status).toBe(200);
    expect(h1.connections.total - before).toBe(3);
  });
});

describe('HTTP/2 pool options', () => {
  it('max_requests_per_connection 2: six sequential requests use three sessions', async () => {
    const before = h2fast.sessions.total;
    for (let i = 0; i < 6; i++) expect((await call(proxy.port, 'h2-max2')).status).toBe(200);
    expect(h2fast.sessions.total - before).toBe(3);
  });

  it('idle_timeout 100 ms closes a session without streams', async () => {
    await sleep(50);
    const open = h2fast.sessions.open;
    expect((await call(proxy.port, 'h2-idle')).status).toBe(200);
    expect(h2fast.sessions.open).toBe(open + 1);
    await sleep(400);
    expect(h2fast.sessions.open).toBe(open);
  });

  it('max_requests 1: of 3 concurrent streams 1 is served, 2 overflow (503 UO)', async () => {
    proxy.logs.length = 0;
    const answers = await many(3, 3, () => call(proxy.port, 'h2-limit'));
    expect(tally(answers.map((a) => String(a.status)))).toEqual({ '200': 1, '503': 2 });
    expect(proxy.logs.filter((l) => l.responseCode === 503).map((l) => l.responseFlagsString)).toEqual(['UO', 'UO']);
  });
});
