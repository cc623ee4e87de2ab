import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exec } from '../../src/commands/exec.js';
import { logs } from '../../src/commands/logs.js';
import { deploymentYaml, eventually, readyPods, startLocalMesh, type LocalMesh } from '../../../control/test/local/helpers.js';
import { Sink } from '../istio-tasks/helpers.js';

// `trellis exec` and `trellis logs` (the commands' code, in-process) against a local mesh's API: a Deployment of
// two pods without a sidecar (pod IPs from 127.0.216.2). The sidecar side (`-c istio-proxy -- pilot-agent ...`)
// runs in istio-tasks/circuit-breaking.test.ts.

describe('trellis exec / logs', () => {
  let mesh: LocalMesh;
  let api: string;
  let pods: string[];

  beforeAll(async () => {
    mesh = await startLocalMesh(
      {
        'web.yaml': deploymentYaml({ name: 'web', namespace: 'shop', replicas: 2, env: ['{ name: GREETING, value: hi }'] }),
        'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n',
      },
      { firstPodIp: '127.0.216.2' },
    );
    api = `http://127.0.0.1:${mesh.plane.apiPort}`;
    pods = (await eventually('2 ready web pods', () => readyPods(mesh.cluster, 'web', 2))).map((p) => p.name);
  });
  afterAll(() => mesh?.close());

  async function run(command: typeof exec | typeof logs, args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
    const out = new Sink();
    const err = new Sink();
    const code = command === exec ? await exec(args, out, { err, ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}) }) : await logs(args, out, err);
    return { code, out: out.text, err: err.text };
  }

  test("exec runs the command with the container's env, in its working directory; output and exit code pass through", async () => {
    const script = 'console.log(process.env.POD_NAME, process.env.POD_NAMESPACE, process.env.POD_IP, process.env.GREETING, process.cwd()); console.error("to stderr"); process.exit(4)';
    const r = await run(exec, [pods[0]!, '-n', 'shop', '--api', api, '--', 'node', '-e', script]);
    const ip = mesh.cluster.list().find((p) => p.name === pods[0])!.podIP;
    expect(r).toEqual({ code: 4, out: `${pods[0]} shop ${ip} hi ${mesh.dir}\n`, err: 'to stderr\ncommand terminated with exit code 4\n' });
    // Host variables a container doesn't get stay out (as in containerEnv).
    process.env.TRELLIS_EXEC_TEST_LEAK = 'leaked';
    try {
      const leak = await run(exec, [`pod/${pods[0]}`, '-n', 'shop', '--api', api, '--', 'node', '-e', 'console.log(process.env.TRELLIS_EXEC_TEST_LEAK ?? "none")']);
      expect(leak).toEqual({ code: 0, out: 'none\n', err: '' });
    } finally {
      delete process.env.TRELLIS_EXEC_TEST_LEAK;
    }
  });

  test('exec deploy/NAME picks one of its pods (and says so); -i passes stdin', async () => {
    const r = await run(exec, ['deploy/web', '-n', 'shop', '--api', api, '-i', '--', 'node', '-e', 'process.stdin.pipe(process.stdout)'], 'from stdin\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe('from stdin\n');
    expect(r.err).toMatch(new RegExp(`^Found 2 pods, using pod/(${pods.join('|')})\\n$`));
  });

  test('exec errors: usage (exit 2), unknown pod, container or command (exit 1 / 127)', async () => {
    const noDash = await run(exec, [pods[0]!, '-n', 'shop', '--api', api, 'ls']);
    expect(noDash.code).toBe(2);
    expect(noDash.err).toMatch(new RegExp(`^trellis exec: the command goes after --: trellis exec ${pods[0]} -- ls\\nusage: trellis exec `));
    const noCommand = await run(exec, [pods[0]!, '--api', api, '--']);
    expect([noCommand.code, noCommand.err.split('\n')[0]]).toEqual([2, 'trellis exec: a command is required after --']);
    const noPod = await run(exec, ['--api', api, '--', 'ls']);
    expect([noPod.code, noPod.err.split('\n')[0]]).toEqual([2, 'trellis exec: a pod is required (POD or deploy/NAME)']);
    const badType = await run(exec, ['svc/web', '--api', api, '--', 'ls']);
    expect([badType.code, badType.err.split('\n')[0]]).toEqual([2, `trellis exec: the server doesn't have a resource type "svc" here (pod/NAME or deploy/NAME)`]);
    const badFlag = await run(exec, [pods[0]!, '--bogus', '--', 'ls']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/^trellis exec: Unknown option '--bogus'/);

    const unknown = await run(exec, ['nope', '-n', 'shop', '--api', api, '--', 'ls']);
    expect(unknown).toEqual({ code: 1, out: '', err: 'trellis exec: Error from server (NotFound): pods "nope" not found in namespace shop\n' });
    const wrongNs = await run(exec, ['deploy/web', '--api', api, '--', 'ls']);
    expect(wrongNs).toEqual({ code: 1, out: '', err: 'trellis exec: Error from server (NotFound): deployments.apps "web" not found (no pods of it in namespace default)\n' });
    const container = await run(exec, [pods[0]!, '-n', 'shop', '-c', 'istio-proxy', '--api', api, '--', 'ls']);
    expect(container).toEqual({ code: 1, out: '', err: `trellis exec: Error from server (NotFound): container trellis-proxy not found in pod ${pods[0]} (its containers: app)\n` });
    const command = await run(exec, [pods[0]!, '-n', 'shop', '--api', api, '--', 'no-such-command-here']);
    expect(command).toEqual({
      code: 127,
      out: '',
      err: `trellis exec: "no-such-command-here": executable file not found in $PATH (container app, working directory ${mesh.dir})\ncommand terminated with exit code 127\n`,
    });
    const down = await run(exec, [pods[0]!, '--api', 'http://127.0.216.1:20001', '--', 'ls']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^trellis exec: cannot reach the Trellis API at http:\/\/127\.0\.216\.1:20001 \(ECONNREFUSED\); is `trellis up` running\?/);
  });

  test('logs: a pod or deploy/NAME, --tail, and clear errors', async () => {
    const ip = mesh.cluster.list().find((p) => p.name === pods[1])!.podIP;
    expect(await run(logs, [pods[1]!, '-n', 'shop', '--api', api])).toEqual({ code: 0, out: `listening on ${ip}:8080\n`, err: '' });
    expect(await run(logs, [pods[1]!, '-n', 'shop', '-c', 'app', '--tail', '0', '--api', api])).toEqual({ code: 0, out: '', err: '' });
    const viaDeploy = await run(logs, ['deployment/web', '-n', 'shop', '--tail', '1', '--api', api]);
    expect(viaDeploy.code).toBe(0);
    expect(viaDeploy.out).toMatch(/^listening on 127\.0\.216\.\d+:8080\n$/);
    expect(viaDeploy.err).toMatch(/^Found 2 pods, using pod\/web-/);

    const unknown = await run(logs, ['nope', '-n', 'shop', '--api', api]);
    expect(unknown).toEqual({ code: 1, out: '', err: 'trellis logs: Error from server (NotFound): pods "nope" not found in namespace shop\n' });
    const container = await run(logs, [pods[1]!, '-n', 'shop', '-c', 'sidecar', '--api', api]);
    expect(container).toEqual({ code: 1, out: '', err: `trellis logs: Error from server (NotFound): container sidecar not found in pod ${pods[1]}\n` });
    const tail = await run(logs, [pods[1]!, '--tail', 'x', '--api', api]);
    expect([tail.code, tail.err.split('\n')[0]]).toEqual([2, 'trellis logs: --tail must be a number of lines, or -1 for all (got x)']);
    const two = await run(logs, [pods[0]!, pods[1]!, '--api', api]);
    expect([two.code, two.err.split('\n')[0]]).toEqual([2, `trellis logs: one pod only (got ${pods[0]} ${pods[1]})`]);
    expect((await run(logs, ['--api', api])).code).toBe(2);
  });
});
