import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TRELLIS, pushedVersions, trellis, upHttpbin, waitForPush, type RunningExample } from './helpers.js';

// Istio's circuit-breaking task, command for command with `kubectl` replaced by `trellis`: examples/httpbin's
// circuit-breaking mesh (httpbin + the fortio client) runs under `trellis up` (in-process, pod IPs from
// 127.0.210.2) on a temporary copy; the DestinationRule goes in with the real `trellis apply -f`, fortio runs in
// its pod with `trellis exec deploy/fortio-deploy -c fortio -- fortio ...`, and the client sidecar's stats come
// from `trellis exec ... -c istio-proxy -- pilot-agent request GET stats`, piped through grep as in the docs.

const CLUSTER = 'cluster.outbound|8000||httpbin.default.svc.cluster.local';

/** fortio's `Code 200 : 17 (85.0 %)` lines, as { '200': 17, '503': 3 }. */
function codes(report: string): Record<string, number> {
  return Object.fromEntries([...report.matchAll(/^Code (-?\d+) : (\d+) \([\d.]+ %\)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** The docs' `pilot-agent request GET stats | grep httpbin | grep pending`, run by a shell as the user would. */
function pendingStats(api: string): Promise<string> {
  const command = `"${process.execPath}" "${TRELLIS}" exec deploy/fortio-deploy -c istio-proxy --api ${api} -- pilot-agent request GET stats | grep httpbin | grep pending`;
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', command], { timeout: 15_000 }, (error, out, err) => (error ? reject(new Error(`${error.message}: ${err}`)) : resolve(out))),
  );
}

const stat = (text: string, name: string): number => Number(new RegExp(`^${`${CLUSTER}.${name}`.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

describe("Istio's circuit-breaking task on httpbin, with trellis apply / exec", () => {
  let mesh: RunningExample;
  let api: string;

  const fortio = (...args: string[]) => trellis(['exec', 'deploy/fortio-deploy', '-c', 'fortio', '--api', api, '--', 'fortio', ...args]);

  beforeAll(async () => {
    mesh = await upHttpbin('circuit-breaking', '127.0.210.2', 2);
    api = mesh.api;
  }, 30_000);

  afterAll(() => mesh?.stop(), 20_000);

  test('before the rule: fortio curl -quiet http://httpbin:8000/get answers 200 through the sidecars', async () => {
    const r = await fortio('curl', '-quiet', 'http://httpbin:8000/get');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const [head, body] = r.out.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/^server: envoy$/m);
    expect(JSON.parse(body!)).toMatchObject({ url: 'http://httpbin:8000/get', headers: { Host: 'httpbin:8000', 'User-Agent': expect.stringMatching(/^fortio\.org\/fortio-/) } });
  });

  test('tripping the breaker: -c 2 mostly passes, -c 3 overflows more; every 503 is an upstream_rq_pending_overflow', async () => {
    const before = await pushedVersions(mesh.debug, 'cluster');
    const applied = await trellis(['apply', '-f', join(mesh.dir, 'networking/destination-rule-circuit-breaker.yaml'), '--api', api]);
    expect(applied).toEqual({ code: 0, out: 'destinationrule.networking.istio.io/httpbin created\n', err: '' });
    await waitForPush(mesh.debug, before, 'cluster');

    // The task's stats before any load: nothing pending, nothing overflowed, the pending slot free.
    let stats = await pendingStats(api);
    expect(stats.split('\n').filter(Boolean).every((l) => l.startsWith(`${CLUSTER}.`))).toBe(true);
    expect(stat(stats, 'circuit_breakers.default.rq_pending_open')).toBe(0);
    expect(stat(stats, 'circuit_breakers.default.remaining_pending')).toBe(1);
    let overflow = stat(stats, 'upstream_rq_pending_overflow');
    expect(overflow).toBe(0);

    // Each run: 503s exactly as many as the client sidecar counted overflows (the rule's outlier detection
    // leaves local overflows alone, as Envoy does, so the host stays in and the rest are 200s).
    const shareOf503: number[] = [];
    for (const [conns, calls] of [[2, 20], [3, 30]] as const) {
      const r = await fortio('load', '-c', String(conns), '-qps', '0', '-n', String(calls), '-loglevel', 'Warning', 'http://httpbin:8000/get');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Starting at max qps with ${conns} thread(s) [gomax `);
      expect(r.out).toMatch(new RegExp(`^All done ${calls} calls \\(plus 0 warmup\\) [\\d.]+ ms avg, [\\d.]+ qps$`, 'm'));
      const seen = codes(r.out);
      expect(Object.keys(seen).filter((c) => c !== '200' && c !== '503')).toEqual([]);
      const rejected = seen['503'] ?? 0;
      expect((seen['200'] ?? 0) + rejected).toBe(calls);
      // -loglevel Warning: one warning per non-200 answer, on stderr.
      expect(r.err.match(/ W http_client\.go> Parsed non ok code 503 \(HTTP\/1\.1 503\)$/gm) ?? []).toHaveLength(rejected);
      stats = await pendingStats(api);
      expect(stat(stats, 'upstream_rq_pending_overflow') - overflow).toBe(rejected);
      expect(stat(stats, 'upstream_rq_pending_active')).toBe(0);
      overflow = stat(stats, 'upstream_rq_pending_overflow');
      shareOf503.push(rejected / calls);
    }
    // Two clients: one request active, one pending, so most pass (Istio's docs: "almost all"). Three: the third
    // finds both slots taken whenever all three are in flight, so some must fail.
    expect(shareOf503[0]).toBeLessThanOrEqual(0.5);
    expect(shareOf503[1]).toBeGreaterThan(0);
  });
});
