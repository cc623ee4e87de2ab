import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { get, humanDuration, podStatus } from '../src/commands/get.js';
import { deploymentYaml, eventually, readyPods, startLocalMesh, type LocalMesh } from '../../control/test/local/helpers.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await get(args, out, err);
  return { code, out: out.text, err: err.text };
}

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

const ROUTING = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - route:
    - destination: {host: web}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - route:
    - destination: {host: web}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart.shop.svc.cluster.local
  subsets:
  - name: v1
    labels: {version: v1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.0.12
  selector: {app: cart}
  ports:
  - {name: http, port: 80, targetPort: 8080, nodePort: 31380}
  - {name: metrics, port: 9090, protocol: UDP}
`;

const rows = (text: string) => text.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));

describe('trellis get pods against a live API', () => {
  let mesh: LocalMesh;
  let api: string;

  beforeAll(async () => {
    mesh = await startLocalMesh({
      'web.yaml': deploymentYaml({ name: 'web', namespace: 'default' }),
      'shop.yaml': [
        deploymentYaml({ name: 'cart', namespace: 'shop', replicas: 2, labels: { app: 'cart', version: 'v1' } }),
        deploymentYaml({ name: 'flaky', namespace: 'shop', command: 'command: [node, -e, "process.exit(1)"]' }),
      ].join('---\n'),
      'routing.yaml': ROUTING,
    }, { firstPodIp: '127.0.105.2' });
    api = `http://127.0.0.1:${mesh.plane.apiPort}`;
    await eventually('pods ready', () => readyPods(mesh.cluster, 'web', 1) && readyPods(mesh.cluster, 'cart', 2));
    await eventually('flaky restarted', () => mesh.cluster.list().find((p) => p.deployment === 'flaky')?.containers[0]!.restartCount);
  });
  afterAll(() => mesh?.close());

  test("defaults to the default namespace, with kubectl's columns", async () => {
    const { code, out } = await run(['pods', '--api', api]);
    expect(code).toBe(0);
    const [header, ...body] = rows(out);
    expect(header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const [web] = readyPods(mesh.cluster, 'web', 1)!;
    expect(body).toEqual([[web!.name, '1/1', 'Running', '0', expect.stringMatching(/^\d+s$/)]]);
  });

  test('-n picks the namespace; a crash-looping pod shows its reason and restarts', async () => {
    // Between a crash and the next one the pod is briefly Running again: read it while it is down.
    const body = await eventually('flaky down', async () => {
      const r = rows((await run(['pods', '-n', 'shop', '--api', api])).out).slice(1);
      return r[2]?.[2] !== 'Running' && r;
    });
    expect(body.map((r) => r[0]!.split('-')[0])).toEqual(['cart', 'cart', 'flaky']);
    const flaky = body[2]!;
    expect(flaky[1]).toBe('0/1');
    expect(flaky[2]).toMatch(/^(Error|CrashLoopBackOff)$/);
    expect(flaky[3]).toMatch(/^[1-9]\d* \(\d+s ago\)$/);
  });

  test('-A -o wide adds NAMESPACE, IP, NODE, SIDECAR and LABELS', async () => {
    const { out } = await run(['pods', '-A', '-o', 'wide', '--api', api]);
    const [header, ...body] = rows(out);
    expect(header).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'SIDECAR', 'LABELS']);
    expect(body.map((r) => r[0])).toEqual(['default', 'shop', 'shop', 'shop']);
    const cart = mesh.cluster.list().find((p) => p.deployment === 'cart')!;
    const row = body.find((r) => r[1] === cart.name)!;
    expect(row.slice(6)).toEqual([cart.podIP, 'local', '-', `app=cart,pod-template-hash=${cart.labels['pod-template-hash']},version=v1`]);
  });

  test('-o json prints the List; names filter; a missing name is NotFound', async () => {
    const json = await run(['pods', '-n', 'shop', '-o', 'json', '--api', api]);
    const list = JSON.parse(json.out);
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(3);
    const [web] = readyPods(mesh.cluster, 'web', 1)!;
    const one = await run(['pod', web!.name, 'nope', '--api', api]);
    expect(one.code).toBe(1);
    expect(rows(one.out).map((r) => r[0])).toEqual(['NAME', web!.name]);
    expect(one.err).toBe('Error from server (NotFound): pods "nope" not found\n');
  });

  test('an empty namespace, TRELLIS_API, and an API that is not there', async () => {
    process.env.TRELLIS_API = api;
    try {
      const empty = await run(['pods', '-n', 'nothing']);
      expect(empty).toEqual({ code: 0, out: '', err: 'No resources found in nothing namespace.\n' });
    } finally {
      delete process.env.TRELLIS_API;
    }
    const closed = await closedPort();
    const down = await run(['pods', '--api', `http://127.0.0.1:${closed}`]);
    expect(down.code).toBe(1);
    expect(down.err).toContain(`cannot reach the Trellis API at http://127.0.0.1:${closed} (ECONNREFUSED)`);
    expect((await run(['configmaps', '--api', api])).code).toBe(2);
  });

  test('virtualservices (vs), destinationrules (dr), gateways (gw), services (svc): the CRDs\' and kubectl\'s columns', async () => {
    const vs = await run(['vs', '--api', api]);
    expect(rows(vs.out)).toEqual([
      ['NAME', 'GATEWAYS', 'HOSTS', 'AGE'],
      ['bookinfo', '["bookinfo-gateway"]', '["*"]', expect.stringMatching(/^\d+s$/)],
      // No gateways: an empty cell, as kubectl prints a missing printer column.
      ['web', '["web"]', expect.stringMatching(/^\d+s$/)],
    ]);
    const dr = await run(['destinationrules', '-A', '--api', api]);
    expect(rows(dr.out)).toEqual([['NAMESPACE', 'NAME', 'HOST', 'AGE'], ['shop', 'cart', 'cart.shop.svc.cluster.local', expect.stringMatching(/^\d+s$/)]]);
    expect(rows((await run(['gw', '--api', api])).out)).toEqual([['NAME', 'AGE'], ['bookinfo-gateway', expect.stringMatching(/^\d+s$/)]]);
    const svc = await run(['svc', '-A', '-o', 'wide', '--api', api]);
    expect(rows(svc.out)).toEqual([
      ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
      ['default', 'web', 'ClusterIP', '<none>', '<none>', '80/TCP', expect.stringMatching(/^\d+s$/), 'app=web'],
      ['shop', 'cart', 'NodePort', '10.96.0.12', '<none>', '80:31380/TCP,9090/UDP', expect.stringMatching(/^\d+s$/), 'app=cart'],
    ]);
    const missing = await run(['vs', 'web', 'nope', '--api', api]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('Error from server (NotFound): virtualservices.networking.istio.io "nope" not found\n');
    const none = await run(['gw', '-n', 'shop', '--api', api]);
    expect(none).toEqual({ code: 0, out: '', err: 'No resources found in shop namespace.\n' });
  });

  test('-o json and -o yaml: a List, or the object itself when one is named', async () => {
    const list = JSON.parse((await run(['dr', '-A', '-o', 'json', '--api', api])).out);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'cart', namespace: 'shop' } }] });
    expect(list.items[0].spec).toEqual({ host: 'cart.shop.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    expect(Date.parse(list.items[0].metadata.creationTimestamp)).toBeLessThanOrEqual(Date.now());
    const one = await run(['virtualservice', 'web', '-o', 'yaml', '--api', api]);
    expect(one.out).toMatch(/^apiVersion: networking\.istio\.io\/v1\nkind: VirtualService\nmetadata:\n  name: web\n  namespace: default\n  creationTimestamp: \S+\nspec:\n  hosts:\n    - web\n/);
    const pods = await run(['po', '-n', 'shop', '-o', 'yaml', '--api', api]);
    expect(pods.out).toMatch(/^apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n/);
  });

  test('-o wide SIDECAR: `-` for pods without one (no control plane needed then)', async () => {
    const { out } = await run(['pods', '-o', 'wide', '--api', api, '--control', 'http://127.0.0.1:1']);
    const [header, web] = rows(out);
    expect(header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'SIDECAR', 'LABELS']);
    expect(web![7]).toBe('-');
  });
});

describe('kubectl formatting', () => {
  test('ages as Kubernetes prints them', () => {
    const s = 1000;
    expect([59 * s, 119 * s, 125 * s, 600 * s, 3 * 3600 * s + 5 * 60 * s, 30 * 3600 * s, 50 * 3600 * s, 400 * 86400 * s].map(humanDuration)).toEqual([
      '59s', '119s', '2m5s', '10m', '3h5m', '30h', '2d2h', '400d',
    ]);
  });

  test('STATUS: Terminating, then the first container with a reason, then the phase', () => {
    const pod = (states: object[], extra: object = {}) =>
      ({
        metadata: { name: 'p', namespace: 'd', labels: {}, ...extra },
        spec: { containers: states.map((_, i) => ({ name: `c${i}` })) },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: states.map((state, i) => ({ name: `c${i}`, ready: false, restartCount: 0, state, lastState: {} })),
        },
      }) as any;
    const running = { running: { startedAt: '2024-01-01T00:00:00Z' } };
    expect(podStatus(pod([running, running]))).toBe('Running');
    expect(podStatus(pod([{ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1, reason: 'Error', finishedAt: '' } }]))).toBe('CrashLoopBackOff');
    expect(podStatus(pod([running, { terminated: { exitCode: 137, signal: 9, reason: '', finishedAt: '' } }]))).toBe('Signal:9');
    expect(podStatus(pod([running], { deletionTimestamp: '2024-01-01T00:00:00Z' }))).toBe('Terminating');
  });
});
