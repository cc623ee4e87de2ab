import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { realpathSync } from 'node:fs';
import {
  alive,
  deploymentYaml,
  eventually,
  getJson,
  namespaceYaml,
  podsOf,
  readyPods,
  serviceYaml,
  startLocalMesh,
  type LocalMesh,
} from './helpers.js';

/**
 * Local pods without sidecars (namespace `plain` has no injection label), running a real HTTP app: the whole
 * life of a Deployment, one mesh for the file so processes start once.
 */
describe('LocalCluster: pods of a namespace without injection', () => {
  let mesh: LocalMesh;
  const web = (replicas: number, version = 'v1') =>
    deploymentYaml({
      name: 'web',
      namespace: 'plain',
      replicas,
      env: [
        `{ name: VERSION, value: ${version} }`,
        `{ name: GREETING, value: "hi $(POD_NAME)" }`,
        `{ name: APP_LABEL, valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }`,
        '{ name: SPAWN_CHILD, value: "1" }',
      ],
    });
  const webEndpoints = () => {
    const reg = mesh.plane.mesh().registry;
    return reg.endpoints(reg.lookup('web.plain')!, 80).map((e) => `${e.address}:${e.port}`).sort();
  };

  beforeAll(async () => {
    process.env.TRELLIS_LEAK = 'host value';
    mesh = await startLocalMesh({
      'ns.yaml': namespaceYaml('plain', { team: 'web' }),
      'web.yaml': `${serviceYaml('web', 'plain')}---\n${web(2)}`,
      'broken.yaml': [
        deploymentYaml({ name: 'nocmd', namespace: 'plain', command: 'image: nginx' }),
        deploymentYaml({ name: 'secret', namespace: 'plain', env: ['{ name: PASSWORD, valueFrom: { secretKeyRef: { name: db, key: pw } } }'] }),
      ].join('---\n'),
    }, { firstPodIp: '127.0.101.2' });
  });
  afterAll(async () => {
    delete process.env.TRELLIS_LEAK;
    await mesh?.close();
  });

  test('runs each replica as a ready pod with its own loopback IP, kubectl-style name and template labels', async () => {
    const pods = await eventually('2 ready web pods', () => readyPods(mesh.cluster, 'web', 2));
    const ips = pods.map((p) => p.podIP);
    expect(new Set(ips).size).toBe(2);
    for (const p of pods) {
      expect(p.podIP).toMatch(/^127\.0\.([1-9]\d{0,2})\.(\d{1,3})$/);
      const last = Number(p.podIP.split('.')[3]);
      expect(last).toBeGreaterThan(1);
      expect(last).toBeLessThan(255);
      expect(p.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.labels).toEqual({ app: 'web', 'pod-template-hash': p.name.split('-')[1] });
      expect(p.sidecar).toBe(false);
      expect(p.injection).toMatch(/no istio-injection=enabled/);
      expect(p.phase).toBe('Running');
      expect(p.containers.map((c) => [c.name, c.ready, c.restartCount])).toEqual([['app', true, 0]]);
    }
    // Both pods of one template share its hash.
    expect(pods[0]!.name.split('-')[1]).toBe(pods[1]!.name.split('-')[1]);
  });

  test("gives each container its pod's identity, env with $(VAR) and fieldRefs, and the manifest's folder", async () => {
    const [pod] = podsOf(mesh.cluster, 'web');
    const { body } = await getJson(`http://${pod!.podIP}:8080/`);
    expect(body).toMatchObject({
      pod: pod!.name,
      hostname: pod!.name,
      ns: 'plain',
      ip: pod!.podIP,
      port: '8080',
      version: 'v1',
      greeting: `hi ${pod!.name}`,
      app: 'web',
    });
    expect(realpathSync(body.cwd)).toBe(realpathSync(mesh.dir));
    expect(body.leaked).toBeUndefined();
    // Output is kept per container.
    expect(mesh.cluster.logs('plain', pod!.name, 'app')!.map((l) => l.line)).toContain(`listening on ${pod!.podIP}:8080`);
  });

  test('registers ready pods as workloads, so the Service has them as endpoints', async () => {
    const pods = readyPods(mesh.cluster, 'web', 2)!;
    await eventually('2 endpoints', () => webEndpoints().length === 2);
    expect(webEndpoints()).toEqual(pods.map((p) => `${p.podIP}:8080`).sort());
    const w = mesh.plane.workloads.list().find((x) => x.name === pods[0]!.name)!;
    expect(w).toMatchObject({
      uid: `local/plain/${pods[0]!.name}`,
      namespace: 'plain',
      workloadName: 'web',
      address: pods[0]!.podIP,
      ports: { http: 8080 },
      source: 'local',
      kind: 'Pod',
    });
    expect(w.sidecar).toBeUndefined();
  });

  test('shows why a container cannot run, and never marks its pod ready', async () => {
    const [nocmd] = await eventually('nocmd pod', () => podsOf(mesh.cluster, 'nocmd').length === 1 && podsOf(mesh.cluster, 'nocmd'));
    expect(nocmd!.containers[0]!.state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: expect.stringMatching(/no command/) },
    });
    expect(nocmd!.phase).toBe('Pending');
    expect(nocmd!.ready).toBe(false);
    const [secret] = podsOf(mesh.cluster, 'secret');
    expect(secret!.containers[0]!.state).toMatchObject({ waiting: { message: expect.stringMatching(/PASSWORD: secretKeyRef is not supported/) } });
    const broken = mesh.plane.workloads.list().filter((w) => w.workloadName === 'nocmd' || w.workloadName === 'secret');
    expect(broken.map((w) => w.ready)).toEqual([false, false]);
  });

  test('restarts a killed container in the same pod (restartCount 1), taking its children down with it', async () => {
    const [pod] = readyPods(mesh.cluster, 'web', 2)!;
    const { body } = await getJson(`http://${pod!.podIP}:8080/`);
    const pid = pod!.containers[0]!.pid!;
    expect(alive(body.childPid)).toBe(true);
    const uid = `local/plain/${pod!.name}`;
    let unready = false;
    const watch = () => (unready ||= mesh.plane.workloads.list().some((w) => w.uid === uid && w.ready === false));
    mesh.plane.workloads.on('change', watch);

    process.kill(pid, 'SIGKILL');
    const again = await eventually('the pod ready again after a restart', () => {
      const p = mesh.cluster.list().find((x) => x.name === pod!.name);
      return p?.ready && p.containers[0]!.restartCount === 1 && p;
    });
    mesh.plane.workloads.off('change', watch);
    expect(again.podIP).toBe(pod!.podIP);
    expect(again.containers[0]!.pid).not.toBe(pid);
    expect(again.containers[0]!.lastState).toMatchObject({ terminated: { exitCode: 137, signal: 'SIGKILL', reason: 'Error' } });
    expect(alive(pid)).toBe(false);
    expect(alive(body.childPid)).toBe(false);
    expect(unready).toBe(true);
    await eventually('the pod back in the endpoints', () => webEndpoints().includes(`${pod!.podIP}:8080`));
  });

  test('scales with the YAML: more replicas add pods, fewer remove them and their processes', async () => {
    const before = readyPods(mesh.cluster, 'web', 2)!;
    await mesh.write('web.yaml', `${serviceYaml('web', 'plain')}---\n${web(3)}`);
    const three = await eventually('3 ready web pods', () => readyPods(mesh.cluster, 'web', 3));
    // Scaling keeps the existing pods.
    expect(three.map((p) => p.name)).toEqual(expect.arrayContaining(before.map((p) => p.name)));
    expect(new Set(three.map((p) => p.podIP)).size).toBe(3);
    await eventually('3 endpoints', () => webEndpoints().length === 3);

    const pids = three.map((p) => p.containers[0]!.pid!);
    await mesh.write('web.yaml', `${serviceYaml('web', 'plain')}---\n${web(1)}`);
    const [one] = await eventually('1 web pod left', () => {
      const all = mesh.cluster.list().filter((p) => p.deployment === 'web');
      return all.length === 1 && all[0]!.ready && all;
    });
    expect(webEndpoints()).toEqual([`${one!.podIP}:8080`]);
    expect(pids.filter(alive)).toEqual([one!.containers[0]!.pid]);
  });

  test('rolls pods to a changed template: the new pod is ready before the old one goes', async () => {
    const [old] = readyPods(mesh.cluster, 'web', 1)!;
    await mesh.write('web.yaml', `${serviceYaml('web', 'plain')}---\n${web(1, 'v2')}`);
    const [next] = await eventually('a v2 pod replacing the v1 pod', () => {
      const all = mesh.cluster.list().filter((p) => p.deployment === 'web');
      return all.length === 1 && all[0]!.name !== old!.name && all[0]!.ready && all;
    });
    expect(next!.name.split('-')[1]).not.toBe(old!.name.split('-')[1]);
    expect((await getJson(`http://${next!.podIP}:8080/`)).body.version).toBe('v2');
    expect(next!.podIP).not.toBe(old!.podIP);
    await eventually('endpoints on the new pod only', () => webEndpoints().join() === `${next!.podIP}:8080`);
  });

  test('deletes the pods of a removed Deployment; stop() leaves no process behind', async () => {
    await mesh.write('broken.yaml', '');
    await eventually('broken pods gone', () => mesh.cluster.list().every((p) => p.deployment === 'web'));
    const [pod] = readyPods(mesh.cluster, 'web', 1)!;
    const { body } = await getJson(`http://${pod!.podIP}:8080/`);
    const pids = [pod!.containers[0]!.pid!, body.childPid as number];
    expect(pids.every(alive)).toBe(true);
    const started = Date.now();
    await mesh.cluster.stop();
    // The app dies on SIGTERM at once; its child ignores SIGTERM and is killed with the container.
    expect(Date.now() - started).toBeLessThan(900);
    expect(pids.filter(alive)).toEqual([]);
    expect(mesh.cluster.list()).toEqual([]);
    expect(mesh.plane.workloads.list().filter((w) => w.source === 'local')).toEqual([]);
  });
});

describe('LocalCluster: stopping', () => {
  test('SIGKILLs a container that ignores SIGTERM after the grace period', async () => {
    const mesh = await startLocalMesh(
      {
        'stubborn.yaml': deploymentYaml({
          name: 'stubborn',
          namespace: 'default',
          command: `command: [node, -e, "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); require('http').createServer().listen(8080, process.env.POD_IP)"]`,
        }),
      },
      { gracePeriodMs: 400, firstPodIp: '127.0.102.2' },
    );
    try {
      const [pod] = await eventually('the stubborn pod ready', () => readyPods(mesh.cluster, 'stubborn', 1));
      const pid = pod!.containers[0]!.pid!;
      const started = Date.now();
      await mesh.cluster.stop();
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      expect(alive(pid)).toBe(false);
    } finally {
      await mesh.close();
    }
  });
});

