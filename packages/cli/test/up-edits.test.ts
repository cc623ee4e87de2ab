import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodJson } from '@trellis/control';
import { up } from '../src/commands/up.js';
import { get } from '../src/commands/get.js';
import { APP, deploymentYaml, eventually } from '../../control/test/local/helpers.js';
import { Sink } from './istio-tasks/helpers.js';

// "Editing the YAML changes the running mesh", end to end: `trellis up` on a temporary folder, the folder's files
// edited as a user would, and the result observed with `trellis get pods -o json` (the command's own code, run
// in-process). The reconciler's cases are unit-tested on LocalCluster (local-cluster.test.ts); this proves the
// folder watcher delivers each kind of edit to it.

const EPHEMERAL = ['--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', '0', '--no-gateway', '--quiet'];

interface PodRow {
  name: string;
  ip: string;
  ready: boolean;
  terminating: boolean;
}

describe('trellis up follows edits of its folder', () => {
  let dir: string;
  const out = new Sink();
  const stop = new AbortController();
  let running: Promise<number>;
  let api: string;

  const web = (replicas: number, greeting: string) =>
    deploymentYaml({ name: 'web', namespace: 'default', replicas, env: [`{ name: GREETING, value: ${greeting} }`] });

  /** `trellis get pods -o json`, as rows per Deployment name prefix (`web-`, `api-`). */
  async function pods(prefix: string): Promise<PodRow[]> {
    const listed = new Sink();
    const err = new Sink();
    expect(await get(['pods', '-o', 'json', '--api', api], listed, err)).toBe(0);
    const items = (JSON.parse(listed.text) as { items: PodJson[] }).items;
    return items
      .filter((p) => p.metadata.name.startsWith(prefix))
      .map((p) => ({
        name: p.metadata.name,
        ip: p.status.podIP ?? '',
        ready: p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
        terminating: Boolean(p.metadata.deletionTimestamp),
      }));
  }

  /** Waits until the Deployment has exactly `n` pods, all ready, none terminating (old ones fully gone). */
  const settled = (prefix: string, n: number) =>
    eventually(`${n} ready ${prefix}* pods and nothing else`, async () => {
      const rows = await pods(prefix);
      return rows.length === n && rows.every((r) => r.ready && !r.terminating) && rows;
    }, 15_000);

  const greetingOf = async (ip: string): Promise<string> => ((await (await fetch(`http://${ip}:8080/`)).json()) as { greeting: string }).greeting;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-up-edits-'));
    await writeFile(join(dir, 'app.mjs'), APP);
    await writeFile(join(dir, 'web.yaml'), web(1, 'hello'));
    running = up([dir, ...EPHEMERAL], out, { signal: stop.signal, firstPodIp: '127.0.214.2' });
    [, api] = (await eventually('the API address', () => /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text))) as [string, string];
  });

  afterAll(async () => {
    stop.abort();
    await running;
    await rm(dir, { recursive: true, force: true });
  }, 20_000);

  test('replicas up adds pods (the first stays), replicas down removes them', async () => {
    const [first] = await settled('web-', 1);
    await writeFile(join(dir, 'web.yaml'), web(3, 'hello'));
    const three = await settled('web-', 3);
    expect(three.map((p) => p.name)).toContain(first!.name);
    expect(new Set(three.map((p) => p.ip)).size).toBe(3);
    for (const p of three) expect(p.ip).toMatch(/^127\.0\.214\.\d+$/);

    await writeFile(join(dir, 'web.yaml'), web(1, 'hello'));
    const one = await settled('web-', 1);
    // The ReplicaSet controller removes the newest pods first: the original survives.
    expect(one.map((p) => p.name)).toEqual([first!.name]);
  });

  test("changing the container's env rolls the pod: a new name, the new env in the new process", async () => {
    const [before] = await settled('web-', 1);
    expect(await greetingOf(before!.ip)).toBe('hello');
    await writeFile(join(dir, 'web.yaml'), web(1, 'bonjour'));
    const [after] = await eventually('a new web pod, the old one gone', async () => {
      const rows = await settled('web-', 1);
      return rows[0]!.name !== before!.name && rows;
    }, 15_000);
    // The template changed, so does the pod-template-hash in the name.
    expect(after!.name.split('-')[1]).not.toBe(before!.name.split('-')[1]);
    expect(await greetingOf(after!.ip)).toBe('bonjour');
  });

  test("a new Deployment file starts its pods; deleting the file removes them (the others stay)", async () => {
    const [webPod] = await settled('web-', 1);
    await writeFile(join(dir, 'api.yaml'), deploymentYaml({ name: 'api', namespace: 'default', replicas: 2, port: 9090, env: ['{ name: GREETING, value: api }'] }));
    const apiPods = await settled('api-', 2);
    for (const p of apiPods) {
      const body = (await (await fetch(`http://${p.ip}:9090/`)).json()) as { pod: string; greeting: string };
      expect(body).toMatchObject({ pod: p.name, greeting: 'api' });
    }
    await unlink(join(dir, 'api.yaml'));
    await eventually('no api pods', async () => (await pods('api-')).length === 0, 15_000);
    expect((await pods('web-')).map((p) => p.name)).toEqual([webPod!.name]);
    // Their addresses no longer answer.
    for (const p of apiPods) await expect(fetch(`http://${p.ip}:9090/`)).rejects.toThrow();
  });
});
