import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultFilter } from '../../src/http/filters/fault-filter.js';
import { ResponseFlag } from '../../src/http/stream-info.js';
import { HTTP_FILTERS, cla, edsCluster, listener, msDuration, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { configDir, eventually, startApp, startSidecar, type SidecarProcess } from '../e2e/harness.js';
import { many, send, sleep, startProxy, until, upstream, type Proxy, type Upstream } from './route-policy-harness.js';

// envoy.filters.http.fault against real sockets. Loopback: proxy 127.0.150.1, upstream 127.0.150.2; the
// bookinfo end-to-end part runs `trellis control` on 127.0.150.10, `trellis proxy` on 127.0.150.11 and the
// ratings app on 127.0.150.20 (it spawns bin/trellis.js: run `npx tsc -b` first).

const fault = (f: EnvoyJson): EnvoyJson => ({ 'envoy.filters.http.fault': { '@type': EXTENSION_TYPE_URL.fault, ...f } });
const pct = (numerator: number, denominator = 'HUNDRED') => ({ numerator, denominator });
const faulted = (prefix: string, f: EnvoyJson, cluster = 'app') => toCluster({ prefix }, cluster, {}, { typed_per_filter_config: fault(f) });

let app: Upstream;
let grpcApp: http2.Http2Server;
let proxy: Proxy;

beforeAll(async () => {
  app = await upstream('127.0.150.2');
  grpcApp = http2.createServer((_req, res) => res.end('unreached'));
  await new Promise<void>((r) => grpcApp.listen(0, '127.0.150.2', r));
  // The inbound listener carries a filter-level fault (every route without its own config is aborted).
  const filterLevel = HTTP_FILTERS.map((f) =>
    f.name === 'envoy.filters.http.fault' ? { ...f, typed_config: { ...f.typed_config, abort: { http_status: 500, percentage: pct(100) } } } : f,
  );
  proxy = await startProxy(
    '127.0.150.1',
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'out'), listener('virtualInbound', 15006, 'in', { http_filters: filterLevel })],
      routes: [
        routeConfig('out', [
          vhost('app', ['app'], [
            faulted('/abort50', { abort: { http_status: 418, percentage: pct(50) } }),
            faulted('/delay50', { delay: { fixed_delay: msDuration(80), percentage: pct(500_000, 'MILLION') } }),
            faulted('/jason', { abort: { http_status: 503, percentage: pct(100) }, headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] }),
            faulted('/other-cluster', { abort: { http_status: 503, percentage: pct(100) }, upstream_cluster: 'other' }),
            faulted('/this-cluster', { abort: { http_status: 503, percentage: pct(100) }, upstream_cluster: 'app' }),
            faulted('/nodes', { abort: { http_status: 503, percentage: pct(100) }, downstream_nodes: ['node-a'] }),
            faulted('/max1', { delay: { fixed_delay: msDuration(200), percentage: pct(100) }, max_active_faults: { value: 1 } }),
            faulted('/long', { delay: { fixed_delay: { seconds: 30 }, percentage: pct(100) } }),
            faulted('/delay-then-abort', { delay: { fixed_delay: msDuration(60), percentage: pct(100) }, abort: { http_status: 502, percentage: pct(100) } }),
            faulted('/unset', { delay: { fixed_delay: msDuration(60) }, abort: { http_status: 502 } }),
            faulted('/headers', { delay: { header_delay: {}, percentage: pct(100) }, abort: { header_abort: {}, percentage: pct(100) } }),
            toCluster({ prefix: '/' }, 'app'),
          ]),
          vhost('grpc', ['grpc'], [
            faulted('/grpc.Svc/Grpc', { abort: { grpc_status: 14, percentage: pct(100) } }, 'grpc'),
            faulted('/grpc.Svc/Http', { abort: { http_status: 503, percentage: pct(100) } }, 'grpc'),
          ]),
        ]),
        routeConfig('in', [
          vhost('in', ['*'], [
            toCluster({ prefix: '/disabled' }, 'app', {}, {
              typed_per_filter_config: { 'envoy.filters.http.fault': { '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', disabled: true } },
            }),
            faulted('/own', { abort: { http_status: 418, percentage: pct(100) } }),
            toCluster({ prefix: '/' }, 'app'),
          ]),
        ]),
      ],
      clusters: [edsCluster('app'), edsCluster('grpc', { h2: true })],
      endpoints: [cla('app', [{ address: app.ip, port: app.port }]), cla('grpc', [{ address: '127.0.150.2', port: (grpcApp.address() as net.AddressInfo).port }])],
    }),
  );
});

afterAll(async () => {
  await proxy?.close();
  await app?.close();
  grpcApp?.close();
});

const logFor = (rid: string) => proxy.logs.find((l) => l.requestId === rid);

describe('fault injection (envoy.filters.http.fault)', () => {
  it('aborts 50% with 418 over 2000 requests (within ±4 points), the others reach the app', async () => {
    const seenBefore = app.seen.length;
    const replies = await many(2000, 32, () => send(proxy, '/abort50', { headers: { host: 'app' } }));
    const aborted = replies.filter((r) => r.status === 418);
    const passed = replies.filter((r) => r.status === 200);
    expect(aborted.length + passed.length).toBe(2000);
    expect(aborted.length / 20).toBeGreaterThanOrEqual(46);
    expect(aborted.length / 20).toBeLessThanOrEqual(54);
    expect(aborted.every((r) => r.body === 'fault filter abort')).toBe(true);
    expect(app.seen.length - seenBefore).toBe(passed.length);
    await until('access logs', () => proxy.logs.filter((l) => l.responseCode === 418).length >= aborted.length);
    expect(proxy.logs.filter((l) => l.responseCode === 418).every((l) => l.responseFlagsString === 'FI' && l.responseCodeDetails === 'fault_filter_abort')).toBe(true);
  });

  it('delays only the drawn fraction (50% of 200, within ±12.5 points), each by the set 80 ms; the rest are not slowed', async () => {
    const replies = await many(200, 25, (i) => send(proxy, '/delay50', { headers: { host: 'app', 'x-request-id': `delay-${i}` } }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    await until('access logs', () => replies.every((_r, i) => logFor(`delay-${i}`) !== undefined));
    const delayed = replies.filter((_r, i) => logFor(`delay-${i}`)!.hasFlag(ResponseFlag.DI));
    const plain = replies.filter((_r, i) => !logFor(`delay-${i}`)!.hasFlag(ResponseFlag.DI));
    expect(delayed.length).toBeGreaterThanOrEqual(75);
    expect(delayed.length).toBeLessThanOrEqual(125);
    for (const r of delayed) {
      expect(r.ms).toBeGreaterThanOrEqual(78);
      expect(r.ms).toBeLessThan(80 + 60);
    }
    const slowestPlain = Math.max(...plain.map((r) => r.ms));
    expect(slowestPlain).toBeLessThan(60);
  });

  it('applies only to requests matching its headers, upstream_cluster and downstream_nodes', async () => {
    expect((await send(proxy, '/jason', { headers: { host: 'app', 'end-user': 'jason' } })).status).toBe(503);
    expect((await send(proxy, '/jason', { headers: { host: 'app', 'end-user': 'mary' } })).status).toBe(200);
    expect((await send(proxy, '/jason', { headers: { host: 'app' } })).status).toBe(200);
    expect((await send(proxy, '/other-cluster', { headers: { host: 'app' } })).status).toBe(200);
    expect((await send(proxy, '/this-cluster', { headers: { host: 'app' } })).status).toBe(503);
    expect((await send(proxy, '/nodes', { headers: { host: 'app', 'x-envoy-downstream-service-node': 'node-a' } })).status).toBe(503);
    expect((await send(proxy, '/nodes', { headers: { host: 'app', 'x-envoy-downstream-service-node': 'node-b' } })).status).toBe(200);
  });

  it('a percentage left unset never fires (Istio: "if not specified, no request is aborted/delayed")', async () => {
    const replies = await many(50, 10, () => send(proxy, '/unset', { headers: { host: 'app' } }));
    expect(replies.every((r) => r.status === 200 && r.ms < 50)).toBe(true);
  });

  it('delays, then aborts (Envoy: the abort is drawn after the delay), flags DI and FI', async () => {
    const r = await send(proxy, '/delay-then-abort', { headers: { host: 'app', 'x-request-id': 'dta' } });
    expect(r.status).toBe(502);
    expect(r.ms).toBeGreaterThanOrEqual(58);
    await until('log', () => logFor('dta') !== undefined);
    expect(logFor('dta')!.responseFlagsString).toBe('DI,FI');
  });

  it('takes delay and abort from the request with header_delay / header_abort', async () => {
    const r = await send(proxy, '/headers', { headers: { host: 'app', 'x-envoy-fault-delay-request': '60', 'x-envoy-fault-abort-request': '429' } });
    expect(r.status).toBe(429);
    expect(r.ms).toBeGreaterThanOrEqual(58);
    const none = await send(proxy, '/headers', { headers: { host: 'app' } });
    expect([none.status, none.ms < 50]).toEqual([200, true]);
  });

  it('max_active_faults: 1 lets one of three concurrent requests be delayed', async () => {
    const replies = await Promise.all([0, 1, 2].map(() => send(proxy, '/max1', { headers: { host: 'app' } })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replies.filter((r) => r.ms >= 195).length).toBe(1);
    const filter = proxy.sidecar.current.config.listeners.get('virtualOutbound')!.hcm.filterChain[0] as FaultFilter;
    await until('the fault to be released', () => filter.activeFaultCount === 0);
    expect((await send(proxy, '/max1', { headers: { host: 'app' } })).ms).toBeGreaterThanOrEqual(195);
  });

  it('a client that goes away during a delay cancels it (its timer is cleared, the app never sees the request)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const seenBefore = app.seen.length;
    const filter = proxy.sidecar.current.config.listeners.get('virtualOutbound')!.hcm.filterChain[0] as FaultFilter;
    const socket = net.connect(proxy.port, proxy.ip);
    socket.on('error', () => undefined);
    socket.write('GET /long HTTP/1.1\r\nhost: app\r\nx-request-id: gone\r\n\r\n');
    await until('the delay to start', () => filter.activeFaultCount === 1);
    const during = timers();
    socket.destroy();
    await until('the DC log', () => logFor('gone')?.hasFlag(ResponseFlag.DC) === true);
    expect(timers()).toBeLessThan(during);
    expect(filter.activeFaultCount).toBe(0);
    expect(logFor('gone')!.responseFlagsString).toBe('DC,DI');
    await sleep(50);
    expect(app.seen.length).toBe(seenBefore);
  });

  it('answers gRPC requests with a trailers-only gRPC status (grpc_status, or mapped from http_status)', async () => {
    const session = http2.connect(`http://${proxy.ip}:${proxy.port}`);
    const call = (path: string) =>
      new Promise<{ headers: http2.IncomingHttpHeaders; endStream: boolean; data: number }>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': path, ':authority': 'grpc', 'content-type': 'application/grpc', te: 'trailers' });
        let headers: http2.IncomingHttpHeaders = {};
        let endStream = false;
        let data = 0;
        req.on('response', (h, flags) => {
          headers = h;
          endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        });
        req.on('data', (c: Buffer) => (data += c.length));
        req.on('end', () => resolve({ headers, endStream, data }));
        req.on('error', reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    try {
      const g = await call('/grpc.Svc/Grpc');
      expect([g.headers[':status'], g.headers['grpc-status'], g.headers['grpc-message'], g.endStream, g.data]).toEqual([200, '14', 'fault filter abort', true, 0]);
      const h = await call('/grpc.Svc/Http');
      expect([h.headers[':status'], h.headers['grpc-status'], h.endStream]).toEqual([200, '14', true]);
    } finally {
      session.close();
    }
  });

  it("uses the filter's own config where a route has none; FilterConfig.disabled turns it off for a route", async () => {
    const port = proxy.sidecar.listenerAddress('virtualInbound')!.port;
    const inbound = { ...proxy, port };
    expect((await send(inbound, '/any', { headers: { host: 'x' } })).status).toBe(500);
    expect((await send(inbound, '/own', { headers: { host: 'x' } })).status).toBe(418);
    expect((await send(inbound, '/disabled', { headers: { host: 'x' } })).status).toBe(200);
  });
});

// --- Istio's bookinfo fault samples, end to end ------------------------------------------------------------

const BOOKINFO = new URL('../../../../../shared/conformance/istio-bookinfo/', import.meta.url);
const sample = (name: string) => readFileSync(new URL(name, BOOKINFO), 'utf8');
const BIN = fileURLToPath(new URL('../../../../bin/trellis.js', import.meta.url));
const CONTROL_IP = '127.0.150.10';
const RATINGS = 'ratings:9080';

describe("Istio's bookinfo ratings-test-abort / -delay samples, through trellis control and trellis proxy", () => {
  let config: Awaited<ReturnType<typeof configDir>>;
  let control: ChildProcess;
  let controlOutput = '';
  let sidecar: SidecarProcess;
  let ratings: Awaited<ReturnType<typeof startApp>>;

  /** The ratings route the sidecar accepted (its outbound route config, from /config_dump). */
  const ratingsRoutes = async (): Promise<EnvoyJson[]> => {
    const dump = JSON.parse(await sidecar.adminText('/config_dump')) as { configs: EnvoyJson[] };
    const routes = dump.configs.find((c) => String(c['@type']).endsWith('RoutesConfigDump'))!;
    const outbound = (routes.dynamic_route_configs as EnvoyJson[]).map((r) => r.route_config as EnvoyJson).find((r) => r.name === 'virtualOutbound')!;
    const vh = (outbound.virtual_hosts as EnvoyJson[]).find((v) => String(v.name).startsWith('ratings.default.svc.cluster.local:9080'))!;
    return vh.routes as EnvoyJson[];
  };
  const faultOf = (route: EnvoyJson) => (route.typed_per_filter_config as EnvoyJson | undefined)?.['envoy.filters.http.fault'] as EnvoyJson | undefined;
  const jason = { 'end-user': 'jason' };

  beforeAll(async () => {
    ratings = await startApp('ratings-v1', '127.0.150.20');
    config = await configDir({
      'bookinfo.yaml': sample('bookinfo.yaml'),
      'destination-rule-all.yaml': sample('destination-rule-all.yaml'),
      // No Kubernetes here: the ratings-v1 pod is this app, as a WorkloadEntry with the Deployment's labels.
      'ratings-v1.yaml': `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ratings-v1, namespace: default }
spec: { address: 127.0.150.20, labels: { app: ratings, version: v1 }, ports: { http: ${ratings.port} } }
`,
      'virtual-service-ratings.yaml': sample('virtual-service-ratings-test-abort.yaml'),
    });
    control = spawn(process.execPath, [BIN, 'control', '--config', config.dir, '--host', CONTROL_IP], { stdio: ['ignore', 'pipe', 'pipe'] });
    control.stdout!.on('data', (d) => (controlOutput += d));
    control.stderr!.on('data', (d) => (controlOutput += d));
    await eventually('trellis control listening', () => controlOutput.includes('loaded'), 10_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${controlOutput}`);
    });
    sidecar = await startSidecar('127.0.150.11', `${CONTROL_IP}:15010`);
  });

  afterAll(async () => {
    await sidecar?.stop();
    if (control && control.exitCode === null) {
      const exited = new Promise((r) => control.once('exit', r));
      control.kill('SIGTERM');
      await exited;
    }
    ratings?.server.close();
    await config?.remove();
  });

  it('test-abort: every request with end-user: jason gets 500, every other one reaches ratings v1', async () => {
    const aborted = await many(40, 8, () => sidecar.call(RATINGS, '/ratings/0', jason));
    expect(aborted.every((r) => r.status === 500 && r.body === 'fault filter abort')).toBe(true);
    const others = await many(40, 8, () => sidecar.version(RATINGS, '/ratings/0', { 'end-user': 'mary' }));
    expect(others.every((v) => v === 'ratings-v1')).toBe(true);
  });

  it('routes without a VirtualService retry field get Istio\'s default retry policy', async () => {
    const routes = await ratingsRoutes();
    for (const r of routes) {
      const retry = (r.route as EnvoyJson).retry_policy as EnvoyJson;
      expect(retry.retry_on).toBe('connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
      expect(retry.num_retries).toEqual({ value: 2 });
      expect(retry.retriable_status_codes).toEqual([503]);
      expect(Number(retry.host_selection_retry_max_attempts)).toBe(5);
      expect((retry.retry_host_predicate as EnvoyJson[])[0]!.name).toBe('envoy.retry_host_predicates.previous_hosts');
    }
  });

  it('test-delay, exactly as Istio ships it (7 s), is accepted: its delay reaches /config_dump and holds jason\'s requests', async () => {
    await config.write('virtual-service-ratings.yaml', sample('virtual-service-ratings-test-delay.yaml'));
    const routes = await eventually('the delay route in /config_dump', async () => {
      const rs = await ratingsRoutes();
      return faultOf(rs[0]!)?.delay ? rs : undefined;
    });
    const delay = faultOf(routes[0]!)!.delay as EnvoyJson;
    expect(Number((delay.fixed_delay as EnvoyJson).seconds)).toBe(7);
    expect(delay.percentage).toEqual({ numerator: 1_000_000, denominator: 'MILLION' });
    expect(faultOf(routes[0]!)!.abort).toBeUndefined();
    expect(faultOf(routes[1]!)).toBeUndefined();
    // Held: no answer within 1 s (the 7 s delay isn't waited out here); other users are answered at once.
    const held = await new Promise<string>((resolve) => {
      const req = http.get({ host: sidecar.ip, port: 15001, path: '/ratings/0', headers: { host: RATINGS, ...jason } }, (res) => {
        resolve(`answered ${res.statusCode}`);
        req.destroy();
      });
      req.on('error', () => undefined);
      setTimeout(() => {
        req.destroy();
        resolve('still waiting after 1 s');
      }, 1000);
    });
    expect(held).toBe('still waiting after 1 s');
    const start = performance.now();
    expect(await sidecar.version(RATINGS, '/ratings/0')).toBe('ratings-v1');
    expect(performance.now() - start).toBeLessThan(200);
  });

  it('test-delay with a short fixedDelay (300ms): jason waits 300 ms (+50), others don\'t', async () => {
    await config.write('virtual-service-ratings.yaml', sample('virtual-service-ratings-test-delay.yaml').replace('fixedDelay: 7s', 'fixedDelay: 300ms'));
    await eventually('the 300 ms delay in /config_dump', async () => {
      const d = faultOf((await ratingsRoutes())[0]!)?.delay as EnvoyJson | undefined;
      return (d?.fixed_delay as EnvoyJson | undefined)?.nanos === 300_000_000;
    });
    const timed = async (headers: Record<string, string>) => {
      const start = performance.now();
      const v = await sidecar.version(RATINGS, '/ratings/0', headers);
      return { v, ms: performance.now() - start };
    };
    const slow = await many(10, 5, () => timed(jason));
    const fast = await many(10, 5, () => timed({ 'end-user': 'mary' }));
    for (const r of slow) {
      expect(r.v).toBe('ratings-v1');
      expect(r.ms).toBeGreaterThanOrEqual(298);
      expect(r.ms).toBeLessThan(350);
    }
    // A child-process sidecar on a loaded CI box: "not delayed" is well under the 300 ms delay.
    for (const r of fast) expect(r.ms).toBeLessThan(100);
  });
});
