import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../../control/test/local/helpers.js';
import { pushedVersions, trellis, upHttpbin, waitForPush, type RunningExample } from './helpers.js';

// Istio's mirroring task, command for command with `kubectl` replaced by `trellis`: examples/httpbin's mirroring
// mesh (httpbin-v1, httpbin-v2 behind Service httpbin, and a sleep pod with curl) under `trellis up` (in-process,
// pod IPs from 127.0.212.2) on a temporary copy. Requests are sent from the sleep pod with
// `trellis exec deploy/sleep -c sleep -- curl ...` and the versions' access logs read with
// `trellis logs deploy/httpbin-vN -c httpbin`, which show each request's Host (`httpbin-shadow:8000` when mirrored).

const CALLS = 10;

/** The access-log lines of `path` in a version's log, by the Host they name. */
function accessLines(log: string, path: string): { host: string }[] {
  const re = new RegExp(`^\\S+ - - \\[[^\\]]+\\] "GET ${path} HTTP/1\\.1" 200 \\d+ "-" "curl/[^"]+" "([^"]+)"$`, 'gm');
  return [...log.matchAll(re)].map((m) => ({ host: m[1]! }));
}

describe("Istio's mirroring task on httpbin v1/v2, with trellis apply / exec / logs", () => {
  let mesh: RunningExample;
  let api: string;
  let v1Pod: string;

  async function apply(file: string): Promise<string> {
    const before = await pushedVersions(mesh.debug);
    const r = await trellis(['apply', '-f', join(mesh.dir, 'networking', file), '--api', api]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    await waitForPush(mesh.debug, before);
    return r.out;
  }

  /** `trellis exec deploy/sleep -c sleep -- sh -c 'curl ... (CALLS times)'`: the bodies, one per line. */
  async function curlFromSleep(path: string): Promise<string[]> {
    const loop = `for i in $(seq ${CALLS}); do curl -sS http://httpbin:8000${path} | tr -d '\\n '; echo; done`;
    const r = await trellis(['exec', 'deploy/sleep', '-c', 'sleep', '--api', api, '--', 'sh', '-c', loop]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    return r.out.trimEnd().split('\n');
  }

  const logsOf = async (deployment: string): Promise<string> => {
    const r = await trellis(['logs', `deploy/${deployment}`, '-c', 'httpbin', '--api', api]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    return r.out;
  };

  beforeAll(async () => {
    mesh = await upHttpbin('mirroring', '127.0.212.2', 3);
    api = mesh.api;
    v1Pod = mesh.pods.find((p) => p.metadata.name.startsWith('httpbin-v1-'))!.metadata.name;
  }, 30_000);

  afterAll(() => mesh?.stop(), 20_000);

  test('a default routing policy: every request to v1, v2 sees none', async () => {
    expect(await apply('mirroring-all-v1.yaml')).toBe('virtualservice.networking.istio.io/httpbin created\ndestinationrule.networking.istio.io/httpbin created\n');
    const bodies = await curlFromSleep('/headers');
    expect(bodies).toHaveLength(CALLS);
    for (const b of bodies) expect(JSON.parse(b).headers).toMatchObject({ Host: 'httpbin:8000', 'User-Agent': expect.stringMatching(/^curl\//) });
    expect(accessLines(await logsOf('httpbin-v1'), '/headers')).toEqual(Array(CALLS).fill({ host: 'httpbin:8000' }));
    expect(accessLines(await logsOf('httpbin-v2'), '/headers')).toEqual([]);
  });

  test('mirroring to v2: v1 still answers every request, v2 gets a copy of each with Host httpbin-shadow:8000', async () => {
    expect(await apply('mirroring-mirror-v2.yaml')).toBe('virtualservice.networking.istio.io/httpbin configured\n');
    // USE_REAL_HOSTNAME: /hostname names the pod that answered.
    const bodies = await curlFromSleep('/hostname');
    expect(bodies.map((b) => JSON.parse(b).hostname)).toEqual(Array(CALLS).fill(v1Pod));
    expect(accessLines(await logsOf('httpbin-v1'), '/hostname')).toEqual(Array(CALLS).fill({ host: 'httpbin:8000' }));
    // Mirrors are fire-and-forget: they may land a moment after the answers.
    const mirrored = await eventually(`${CALLS} mirrored requests in v2's log`, async () => {
      const lines = accessLines(await logsOf('httpbin-v2'), '/hostname');
      return lines.length >= CALLS && lines;
    });
    expect(mirrored).toEqual(Array(CALLS).fill({ host: 'httpbin-shadow:8000' }));
    // The earlier /headers requests were not mirrored after the fact.
    expect(accessLines(await logsOf('httpbin-v2'), '/headers')).toEqual([]);
  });
});
