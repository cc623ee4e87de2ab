import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvoyJson } from '@trellis/envoy-api';
import { compileConfig } from '../../src/config/compile.js';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { Sidecar } from '../../src/sidecar.js';
import { listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';

// Envoy's HCM `access_log` (Istio's meshConfig.accessLogFile becomes a file access logger there): the sidecar
// writes its JSON lines to the configured file. Pod IP 127.0.182.2, app on 127.0.182.3.

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

function config(appPort: number, accessLog: EnvoyJson[]) {
  return snapshot({
    listeners: [listener('virtualOutbound', 15001, 'out', { access_log: accessLog })],
    routes: [routeConfig('out', [vhost('app', ['app'], [toCluster({ prefix: '/' }, 'outbound|80||app', {}, { name: 'to-app' })])])],
    clusters: [staticCluster('outbound|80||app', [{ address: '127.0.182.3', port: appPort }])],
  });
}

describe('HCM access_log', () => {
  let app: http.Server;
  let dir: string;
  beforeAll(async () => {
    app = http.createServer((req, res) => req.resume().on('end', () => res.end('hi')));
    await new Promise<void>((r) => app.listen(0, '127.0.182.3', r));
    dir = await mkdtemp(join(tmpdir(), 'trellis-hcm-log-'));
  });
  afterAll(async () => {
    await new Promise((r) => app.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  const port = () => (app.address() as AddressInfo).port;

  it('compiles file and stdout loggers; refuses filters and other sinks, naming the field', () => {
    const ok = compileConfig(config(port(), [
      { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: '/tmp/x.log', log_format: { json_format: { fields: {} } } } },
      { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: '/dev/stdout' } },
      { name: 'envoy.access_loggers.stdout', typed_config: { '@type': STDOUT_LOG } },
    ]));
    expect(ok.listeners.get('virtualOutbound')!.hcm.accessLogs).toEqual([{ path: '/tmp/x.log' }, { path: '-' }, { path: '-' }]);
    const reject = (log: EnvoyJson) => {
      try {
        compileConfig(config(port(), [log]));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigRejected);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(reject({ name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: '/tmp/x' }, filter: { status_code_filter: { comparison: { op: 'GE', value: { default_value: 400, runtime_key: 'k' } } } } })).toContain('access_log[0].filter');
    expect(reject({ name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG } })).toContain('needs a path');
    expect(reject({ name: 'envoy.access_loggers.http_grpc' })).toContain('not supported');
  });

  it('a sidecar writes one JSON line per request to the file the HCM names', async () => {
    const path = join(dir, 'hcm.log');
    const sidecar = new Sidecar({ podIp: '127.0.182.2', ports: { outbound: 0, inbound: 0, admin: 0, health: 0 }, telemetry: { accessLogOptions: { flushIntervalMs: 10 } } });
    try {
      await sidecar.start();
      sidecar.apply(config(port(), [{ name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path } }]));
      await sidecar.settled();
      const outbound = sidecar.listenerAddress('virtualOutbound')!.port;
      for (const p of ['/a', '/b?q=1']) {
        await new Promise<void>((resolve, reject) =>
          http.get({ host: '127.0.182.2', port: outbound, path: p, headers: { host: 'app' }, agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject),
        );
      }
    } finally {
      await sidecar.close(200); // writes out what is buffered
    }
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.method, l.path, l.response_code, l.route_name, l.upstream_cluster, l.bytes_sent])).toEqual([
      ['GET', '/a', 200, 'to-app', 'outbound|80||app', 2],
      ['GET', '/b?q=1', 200, 'to-app', 'outbound|80||app', 2],
    ]);
  });
});
