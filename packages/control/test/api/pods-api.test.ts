import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'node:http';
import { isLoopbackAddress, podExec } from '../../src/api/pod-exec.js';
import { json } from '../../src/http/reply-server.js';
import { deploymentYaml, eventually, getJson, namespaceYaml, readyPods, startLocalMesh, type LocalMesh } from '../local/helpers.js';

function getText(url: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
    })
      .on('error', reject)
      .end();
  });
}

describe('API /api/v1/pods over local pods', () => {
  let mesh: LocalMesh;
  let api: string;

  beforeAll(async () => {
    mesh = await startLocalMesh({
      'ns.yaml': `${namespaceYaml('shop')}---\n${namespaceYaml('blog')}`,
      'shop.yaml': deploymentYaml({ name: 'cart', namespace: 'shop', replicas: 2, labels: { app: 'cart', version: 'v1' } }),
      'blog.yaml': deploymentYaml({ name: 'posts', namespace: 'blog', command: 'command: [node, -e, "process.exit(2)"]' }),
    }, { firstPodIp: '127.0.103.2' });
    api = `http://127.0.0.1:${mesh.plane.apiPort}`;
    await eventually('2 ready cart pods', () => readyPods(mesh.cluster, 'cart', 2));
    await eventually('posts restarted once', () => mesh.cluster.list().find((p) => p.deployment === 'posts')?.containers[0]!.restartCount);
  });
  afterAll(() => mesh?.close());

  test('lists every pod as a kubectl-style List', async () => {
    const { status, body } = await getJson(`${api}/api/v1/pods`);
    expect(status).toBe(200);
    expect(body.apiVersion).toBe('v1');
    expect(body.kind).toBe('List');
    expect(body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name.split('-')[0]}`)).toEqual(['blog/posts', 'shop/cart', 'shop/cart']);
  });

  test("a ready pod: labels, IP, Ready condition, container statuses", async () => {
    const { body } = await getJson(`${api}/api/v1/pods?namespace=shop`);
    expect(body.items).toHaveLength(2);
    const local = mesh.cluster.list().filter((p) => p.namespace === 'shop');
    for (const [i, item] of body.items.entries()) {
      const pod = local[i]!;
      expect(item).toMatchObject({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: pod.name, namespace: 'shop', uid: pod.uid, labels: { app: 'cart', version: 'v1', 'pod-template-hash': expect.any(String) } },
        spec: { nodeName: 'local', containers: [{ name: 'app' }] },
        status: {
          podIP: pod.podIP,
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: expect.any(String) } } }],
        },
      });
      expect(Date.parse(item.metadata.creationTimestamp)).toBe(pod.createdAt.getTime());
      expect(item.metadata.annotations['sidecar.istio.io/status']).toBeUndefined();
    }
  });

  test('a crashing pod: not Ready, its restarts and how the last run ended', async () => {
    const { body } = await getJson(`${api}/api/v1/namespaces/blog/pods`);
    const [item] = body.items;
    expect(item.status.conditions).toEqual([{ type: 'Ready', status: 'False' }]);
    const [cs] = item.status.containerStatuses;
    expect(cs.ready).toBe(false);
    expect(cs.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs.lastState).toMatchObject({ terminated: { exitCode: 2, reason: 'Error' } });
  });

  test('one pod by name, its log, and Kubernetes-style 404s', async () => {
    const [pod] = mesh.cluster.list().filter((p) => p.namespace === 'shop');
    const one = await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}`);
    expect(one.body.metadata.name).toBe(pod!.name);
    const log = await getText(`${api}/api/v1/namespaces/shop/pods/${pod!.name}/log?container=app&tailLines=1`);
    expect(log.status).toBe(200);
    expect(log.type).toMatch(/^text\/plain/);
    expect(log.text).toBe(`listening on ${pod!.podIP}:8080\n`);
    const missing = await getJson(`${api}/api/v1/namespaces/shop/pods/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    expect((await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}/log?container=nope`)).status).toBe(404);
    expect((await getJson(`${api}/api/v2/pods`)).status).toBe(404);
  });

  test("a pod's owner (its ReplicaSet) and its container's exec context", async () => {
    const [pod] = mesh.cluster.list().filter((p) => p.namespace === 'shop');
    const one = await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}`);
    const hash = one.body.metadata.labels['pod-template-hash'];
    expect(one.body.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `cart-${hash}`, controller: true }]);
    expect(pod!.name.startsWith(`cart-${hash}-`)).toBe(true);

    const exec = await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}/exec?container=app`);
    expect(exec.status).toBe(200);
    expect(exec.body).toMatchObject({ namespace: 'shop', pod: pod!.name, container: 'app', sidecar: false, running: true, podIP: pod!.podIP, cwd: mesh.dir });
    expect(exec.body.env).toMatchObject({ POD_NAME: pod!.name, POD_NAMESPACE: 'shop', POD_IP: pod!.podIP, PORT: '8080' });
    // Without ?container, the first container; an unknown one is a 404 that names the pod's containers.
    expect((await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}/exec`)).body.container).toBe('app');
    const missing = await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}/exec?container=nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(`container nope not found in pod ${pod!.name} (its containers: app)`);
    // A crash-looping container is reported as not running (kubectl exec refuses it).
    const [posts] = mesh.cluster.list().filter((p) => p.deployment === 'posts');
    const crashing = await eventually('posts between runs', async () => {
      const r = await getJson(`${api}/api/v1/namespaces/blog/pods/${posts!.name}/exec`);
      return r.body.running === false && r;
    });
    expect(crashing.body.container).toBe('app');
  });

  test('an exec context (it carries the environment) only goes to callers on this host', async () => {
    const [pod] = mesh.cluster.list().filter((p) => p.namespace === 'shop');
    const podJson = (await getJson(`${api}/api/v1/namespaces/shop/pods/${pod!.name}`)).body;
    const failure = (code: number, reason: string, message: string) => json(code, { code, reason, message });
    const q = new URLSearchParams('container=app');
    const remote = podExec(mesh.cluster, podJson, q, '192.0.2.7', failure);
    expect(remote.status).toBe(403);
    expect(JSON.parse(remote.body)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: 'exec is only served to callers on this host (the pods run here); 192.0.2.7 is not a loopback address',
    });
    expect(remote.body).not.toContain(pod!.podIP);
    expect(podExec(mesh.cluster, podJson, q, '::ffff:127.0.0.1', failure).status).toBe(200);

    for (const a of ['127.0.0.1', '127.0.103.2', '::1', '::ffff:127.1.2.3']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['192.0.2.7', '::ffff:10.0.0.1', '::', '0.0.0.0', '1127.0.0.1', '127.0.0.1.5', '', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
  });
});

describe('API /api/v1/pods without local mode', () => {
  test('lists the Pods written in config, with their YAML status', async () => {
    const mesh = await startLocalMesh({
      'pod.yaml': `apiVersion: v1
kind: Pod
metadata: { name: vm-like, namespace: ext, labels: { app: legacy } }
spec:
  containers: [{ name: main, image: legacy:1 }]
status: { podIP: 10.1.2.3, phase: Running }
`,
    });
    try {
      mesh.plane.localCluster = undefined;
      const { body } = await getJson(`http://127.0.0.1:${mesh.plane.apiPort}/api/v1/pods?namespace=ext`);
      expect(body.items).toEqual([
        expect.objectContaining({
          metadata: { name: 'vm-like', namespace: 'ext', labels: { app: 'legacy' }, annotations: {} },
          status: expect.objectContaining({ podIP: '10.1.2.3', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }),
        }),
      ]);
    } finally {
      await mesh.close();
    }
  });
});
