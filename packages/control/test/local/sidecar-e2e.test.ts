import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '../../src/control-plane.js';
import { LocalCluster } from '../../src/local/index.js';
import { alive, eventually } from './helpers.js';

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const CANARY = root('examples/canary');
const TRELLIS = root('bin/trellis.js');

/** One call to hello through a sidecar's outbound listener, in the absolute form HTTP proxies get. */
function viaSidecar(sidecarIp: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: sidecarIp, port: 15001, path: 'http://hello.canary:8080/', headers: { host: 'hello.canary:8080' }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body).version) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * examples/canary as `trellis up` runs it: namespace canary is injected, so every pod runs `trellis proxy`
 * (the built CLI) next to its app, and the client's calls to hello.canary go through sidecars on both ends.
 */
describe('local mode with sidecars: examples/canary', () => {
  let plane: ControlPlane;
  let cluster: LocalCluster;

  beforeAll(async () => {
    if (!existsSync(root('packages/cli/dist/main.js'))) throw new Error('build first (npx tsc -b): the sidecar runs bin/trellis.js');
    plane = await ControlPlane.start({
      configDir: CANARY,
      xdsHost: '127.0.0.1',
      xdsPort: 0,
      debugHost: '127.0.0.1',
      debugPort: 0,
      apiPort: 0,
      debounceMs: 30,
    });
    cluster = LocalCluster.start(plane, {
      proxyCommand: [process.execPath, TRELLIS, 'proxy'],
      firstPodIp: '127.0.107.2',
      probeIntervalMs: 100,
      gracePeriodMs: 3000,
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await plane?.close();
  });

  test('every pod gets a sidecar and becomes ready', async () => {
    const pods = await eventually(
      '4 ready pods',
      () => {
        const list = cluster.list();
        return list.length === 4 && list.every((p) => p.ready) && list;
      },
      20_000,
    );
    expect(pods.map((p) => p.deployment).sort()).toEqual(['client', 'hello-v1', 'hello-v1', 'hello-v2']);
    for (const p of pods) {
      expect(p.sidecar).toBe(true);
      expect(p.containers.map((c) => [c.name, c.ready])).toEqual([[p.deployment.startsWith('hello') ? 'hello' : 'client', true], ['trellis-proxy', true]]);
    }
  });

  test('sidecars register their pods over xDS; local mode adds readiness, and endpoints are the sidecars\' inbound ports', async () => {
    const hello = cluster.list().filter((p) => p.deployment.startsWith('hello'));
    await eventually('hello pods registered by their sidecars', () =>
      hello.every((p) => plane.workloads.list().some((w) => w.address === p.podIP && w.source === 'xds')),
    );
    const local = plane.workloads.list().filter((w) => w.source === 'local' && w.workloadName.startsWith('hello'));
    expect(local.map((w) => [w.ready, w.sidecar?.inboundPort])).toEqual(hello.map(() => [true, 15006]));
    const reg = plane.mesh().registry;
    const eps = reg.endpoints(reg.lookup('hello.canary')!, 8080);
    expect(eps.map((e) => `${e.address}:${e.port}`).sort()).toEqual(hello.map((p) => `${p.podIP}:15006`).sort());
  });

  test("the client's sidecar splits calls to hello 90/10 between v1 and v2", async () => {
    const client = cluster.list().find((p) => p.deployment === 'client')!;
    // Ready pods reach the client's sidecar as an EDS push a moment later, as in any mesh.
    const helloPods = cluster.list().filter((p) => p.deployment.startsWith('hello')).length;
    await eventually('every hello pod in the client sidecar\'s endpoints', async () => {
      const clusters = await (await fetch(`http://${client.podIP}:15000/clusters`)).text();
      return (clusters.match(/^outbound\|8080\|\|hello\.canary\.svc\.cluster\.local::[\d.]+:15006::health_flags::healthy$/gm) ?? []).length >= helloPods;
    });
    const versions: string[] = [];
    for (let i = 0; i < 200; i++) versions.push(await viaSidecar(client.podIP));
    const v1 = versions.filter((v) => v === 'v1').length;
    const v2 = versions.filter((v) => v === 'v2').length;
    expect(v1 + v2).toBe(200);
    expect(v1).toBeGreaterThanOrEqual(160);
    expect(v2).toBeGreaterThanOrEqual(5);
  });

  test('client.mjs reaches hello through its sidecar and prints the split', async () => {
    const client = cluster.list().find((p) => p.deployment === 'client')!;
    // Errors may show in the first reports: a hello pod is an endpoint from the moment its sidecar connects,
    // a moment before its app listens.
    const line = await eventually(
      'a report with both versions',
      () => cluster.logs('canary', client.name, 'client')!.map((l) => l.line).find((l) => /: v1 \d+% \(\d+\)  v2 \d+% \(\d+\)/.test(l)),
      15_000,
    );
    expect(line).toMatch(/^hello\.canary:8080 last 10s: /);
    expect(cluster.logs('canary', client.name, 'client')![0]!.line).toBe(
      `calling http://hello.canary:8080/ 20/s through the sidecar at ${client.podIP}:15001`,
    );
  });

  test('stop() ends every app and sidecar process', async () => {
    const pids = cluster.list().flatMap((p) => p.containers.map((c) => c.pid!));
    expect(pids).toHaveLength(8);
    expect(pids.every(alive)).toBe(true);
    await cluster.stop();
    expect(pids.filter(alive)).toEqual([]);
  });
});
