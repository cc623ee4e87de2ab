import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PodJson } from '@trellis/control';
import { up } from '../../src/commands/up.js';
import { get } from '../../src/commands/get.js';
import { eventually } from '../../../control/test/local/helpers.js';
import { BOOKINFO, Browser, ISTIO, Sink, pushedVersions, shares, trellis, waitForPush } from './helpers.js';

// Istio's traffic-management tasks (request routing, fault injection, traffic shifting, request timeouts), command
// for command with `kubectl` replaced by `trellis`: examples/bookinfo runs under `trellis up` (in-process, plain
// output, pod IPs from 127.0.195.2) on a temporary folder, Istio's YAML goes in with the real `trellis apply -f`
// bin (which finds the folder through the mesh's API), and pages are loaded the way a browser would: through the
// ingress gateway that bookinfo-gateway.yaml opens. One mesh serves the whole file; every step waits until each
// Bookinfo sidecar has ACKed the new routes before it measures.

const DIR = mkdtempSync(join(tmpdir(), 'trellis-istio-tasks-'));
const BOOKINFO_APPS = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];

describe("Istio's traffic-management tasks on Bookinfo, with trellis apply", () => {
  const out = new Sink();
  const stop = new AbortController();
  let running: Promise<number>;
  let api: string;
  let debug: string;
  let browser: Browser;
  let jason: string;

  /** `trellis apply -f FILE|-` against the running mesh; resolves once every sidecar routes by the result. */
  async function apply(file: string, input?: string, type = 'route'): Promise<string> {
    const before = await pushedVersions(debug, type);
    const r = await trellis(['apply', '-f', file, '--api', api], input);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    await waitForPush(debug, before, type);
    return r.out;
  }

  const bookinfoPods = async (): Promise<PodJson[]> => {
    const list = (await (await fetch(`${api}/api/v1/namespaces/default/pods`)).json()) as { items: PodJson[] };
    return list.items.filter((p) => BOOKINFO_APPS.some((d) => p.metadata.name.startsWith(`${d}-`)));
  };

  beforeAll(async () => {
    // examples/bookinfo's apps and manifests; the traffic generator would only add load.
    cpSync(BOOKINFO, join(DIR, 'bookinfo'), { recursive: true, filter: (src) => !src.endsWith('traffic-generator.yaml') && !src.includes('/networking') });
    running = up([DIR, '--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', '0', '--quiet'], out, {
      signal: stop.signal,
      firstPodIp: '127.0.195.2',
    });
    const [, debugPort, apiUrl] = await eventually('the mesh up line', () => /debug 127\.0\.0\.1:(\d+), API (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text));
    api = apiUrl!;
    debug = `http://127.0.0.1:${debugPort}`;
    const pods = await eventually('the 6 Bookinfo pods ready', async () => {
      const list = await bookinfoPods();
      return list.length === 6 && list.every((p) => p.status.conditions[0]?.status === 'True') && list;
    }, 25_000);
    expect(pods).toHaveLength(6);
    // Istio's "determining the ingress IP and port": `trellis up` prints the gateway's URL once it serves.
    const gw = await trellis(['apply', '-f', ISTIO('bookinfo-gateway.yaml'), '--api', api]);
    expect(gw.out).toBe('gateway.networking.istio.io/bookinfo-gateway created\nvirtualservice.networking.istio.io/bookinfo created\n');
    const [, gatewayUrl] = await eventually('the gateway URL', () => /^gateway istio-system\/\S+: (http:\/\/[\d.]+:\d+) \(listener/m.exec(out.text), 15_000);
    browser = new Browser(gatewayUrl!);
    await eventually('a full product page through the gateway', async () => {
      const p = await browser.page('/productpage');
      return p.status === 200 && !p.body.includes('Error fetching') && p;
    });
    jason = await browser.login('jason');
  }, 40_000);

  afterAll(async () => {
    browser?.close();
    stop.abort();
    await running;
    rmSync(DIR, { recursive: true, force: true });
  }, 20_000);

  test('trellis apply -f destination-rule-all.yaml: validated, written to the mesh\'s folder, listed by trellis get', async () => {
    const written = await apply(ISTIO('destination-rule-all.yaml'), undefined, 'cluster');
    expect(written).toBe(['productpage', 'reviews', 'ratings', 'details'].map((n) => `destinationrule.networking.istio.io/${n} created\n`).join(''));
    expect(readdirSync(DIR).filter((f) => f.startsWith('destinationrule-')).sort()).toEqual(
      ['details', 'productpage', 'ratings', 'reviews'].map((n) => `destinationrule-default-${n}.yaml`),
    );
    const again = await trellis(['apply', '-f', ISTIO('destination-rule-all.yaml'), '--api', api]);
    expect(again.out).toMatch(/^(destinationrule\.networking\.istio\.io\/\w+ unchanged\n){4}$/);

    // An invalid object: every error named, exit 1, nothing written.
    const bad = await trellis(['apply', '-f', '-', '--api', api], 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: -1\n');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('error: STDIN:10#0 VirtualService/default/reviews spec.http[0].route[0].weight:');
    expect(existsSync(join(DIR, 'virtualservice-default-reviews.yaml'))).toBe(false);

    const dr = new Sink();
    expect(await get(['dr', '--api', api], dr, new Sink())).toBe(0);
    expect(dr.text).toMatch(/^NAME\s+HOST\s+AGE\ndetails\s+details\s+\d+s\nproductpage\s+productpage\s+\d+s\nratings\s+ratings\s+\d+s\nreviews\s+reviews\s+\d+s\n$/);
    const svc = new Sink();
    expect(await get(['svc', 'reviews', '--api', api], svc, new Sink())).toBe(0);
    expect(svc.text).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nreviews\s+ClusterIP\s+<none>\s+<none>\s+9080\/TCP\s+\d+s\n$/);

    // Every sidecar has ACKed the subsets' clusters: `get pods -o wide` says SYNCED.
    const wide = new Sink();
    expect(await get(['pods', '-o', 'wide', '--api', api, '--control', debug], wide, new Sink())).toBe(0);
    const rows = wide.text.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+SIDECAR\s+LABELS$/);
    const bookinfoRows = rows.filter((r) => BOOKINFO_APPS.some((d) => r.startsWith(`${d}-`)));
    expect(bookinfoRows).toHaveLength(6);
    for (const r of bookinfoRows) expect(r).toMatch(/^\S+\s+2\/2\s+Running\s+0\s+\d+s\s+127\.0\.19[5-9]\.\d+\s+local\s+SYNCED\s+app=/);
    // `trellis up`'s own lines carry the same sync state.
    expect(out.text).toMatch(/^pod default\/productpage-v1-\S+ 127\.0\.19[5-9]\.\d+ ready 2\/2 Running restarts 0 sidecar SYNCED$/m);
  });

  test('request routing: virtual-service-all-v1 sends every page to reviews v1; reviews-test-v2 gives jason v2', async () => {
    const written = await apply(ISTIO('virtual-service-all-v1.yaml'));
    expect(written).toBe(['productpage', 'reviews', 'ratings', 'details'].map((n) => `virtualservice.networking.istio.io/${n} created\n`).join(''));
    expect(await browser.versions(20, { concurrency: 4 })).toEqual(Array(20).fill('v1'));

    const vs = new Sink();
    expect(await get(['vs', '--api', api], vs, new Sink())).toBe(0);
    expect(vs.text).toMatch(/^NAME\s+GATEWAYS\s+HOSTS\s+AGE\n/);
    expect(vs.text).toMatch(/^bookinfo\s+\["bookinfo-gateway"\]\s+\["\*"\]\s+\d+s$/m);
    expect(vs.text).toMatch(/^reviews\s+\["reviews"\]\s+\d+s$/m);

    expect(await apply(ISTIO('virtual-service-reviews-test-v2.yaml'))).toBe('virtualservice.networking.istio.io/reviews configured\n');
    expect(await browser.versions(10, { cookie: jason, concurrency: 4 })).toEqual(Array(10).fill('v2'));
    expect(await browser.versions(10, { concurrency: 4 })).toEqual(Array(10).fill('v1'));
  });

  test("fault injection: a 7 s delay for jason trips productpage's 3 s timeout and retry (~6 s); an abort breaks his ratings", async () => {
    // State from the previous task, as Istio's task requires: all-v1 + reviews-test-v2.
    await apply(ISTIO('virtual-service-ratings-test-delay.yaml'));
    const [delayed, others] = await Promise.all([browser.page('/productpage', { cookie: jason }), browser.versions(5, { concurrency: 1 })]);
    expect(delayed.status).toBe(200);
    expect(delayed.body).toContain('Sorry, product reviews are currently unavailable for this book.');
    expect(delayed.ms).toBeGreaterThanOrEqual(5800);
    expect(delayed.ms).toBeLessThan(7000);
    expect(others).toEqual(Array(5).fill('v1'));

    await apply(ISTIO('virtual-service-ratings-test-abort.yaml'));
    expect(await browser.versions(5, { cookie: jason, concurrency: 2 })).toEqual(Array(5).fill('ratings unavailable'));
    expect(await browser.versions(5, { concurrency: 2 })).toEqual(Array(5).fill('v1'));
  }, 20_000);

  test('traffic shifting: 50/50 v1/v3, 90/10 and 80/20 v1/v2 over 400 pages each (within ±7 points), then all v3', async () => {
    await apply(ISTIO('virtual-service-all-v1.yaml'));
    expect(await browser.versions(10, { concurrency: 4 })).toEqual(Array(10).fill('v1'));
    // ±7 points is 2.8 standard deviations of a fair 50/50 coin over 400 pages (and 4.7 for 90/10).
    const splits: [string, Record<string, number>][] = [
      ['virtual-service-reviews-50-v3.yaml', { v1: 50, v3: 50 }],
      ['virtual-service-reviews-90-10.yaml', { v1: 90, v2: 10 }],
      ['virtual-service-reviews-80-20.yaml', { v1: 80, v2: 20 }],
    ];
    for (const [file, expected] of splits) {
      expect(await apply(ISTIO(file))).toBe('virtualservice.networking.istio.io/reviews configured\n');
      const seen = shares(await browser.versions(400, { concurrency: 8 }));
      expect(Object.keys(seen).sort(), file).toEqual(Object.keys(expected).sort());
      for (const [version, pct] of Object.entries(expected)) {
        expect(Math.abs(seen[version]! - pct), `${file}: ${version} ${seen[version]!.toFixed(1)}%`).toBeLessThanOrEqual(7);
      }
    }
    await apply(ISTIO('virtual-service-reviews-v3.yaml'));
    expect(await browser.versions(20, { concurrency: 4 })).toEqual(Array(20).fill('v3'));
  }, 40_000);

  test('request timeouts: ratings delayed 2 s makes v2 pages slow; a 0.5 s reviews timeout answers in ~1 s with the reviews error', async () => {
    await apply(ISTIO('virtual-service-all-v1.yaml'));
    // The task's own YAML, piped in as its `kubectl apply -f - <<EOF` steps do.
    await apply('-', 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n    - reviews\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v2\n');
    const ratingsDelay =
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts:\n  - ratings\n  http:\n  - fault:\n      delay:\n        percentage:\n          value: 100\n        fixedDelay: 2s\n    route:\n    - destination:\n        host: ratings\n        subset: v1\n';
    expect(await apply('-', ratingsDelay)).toBe('virtualservice.networking.istio.io/ratings configured\n');
    const slow = await browser.page('/productpage');
    expect(slow.body).toContain('<font color="black">');
    expect(slow.ms).toBeGreaterThanOrEqual(1900);
    expect(slow.ms).toBeLessThan(3000);

    await apply('-', 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v2\n    timeout: 0.5s\n');
    const fast = await browser.page('/productpage');
    expect(fast.status).toBe(200);
    expect(fast.body).toContain('Sorry, product reviews are currently unavailable for this book.');
    // productpage asks reviews twice (its deliberate retry): two 0.5 s timeouts.
    expect(fast.ms).toBeGreaterThanOrEqual(950);
    expect(fast.ms).toBeLessThan(1600);
  });

  test('cleanup: trellis delete -f virtual-service-all-v1.yaml removes the rules and their files; reviews is spread again', async () => {
    const before = await pushedVersions(debug);
    const r = await trellis(['delete', '-f', ISTIO('virtual-service-all-v1.yaml'), '--api', api]);
    expect(r).toEqual({
      code: 0,
      out: ['productpage', 'reviews', 'ratings', 'details'].map((n) => `virtualservice.networking.istio.io "${n}" deleted\n`).join(''),
      err: '',
    });
    expect(readdirSync(DIR).filter((f) => f.startsWith('virtualservice-'))).toEqual(['virtualservice-default-bookinfo.yaml']);
    await waitForPush(debug, before);
    const seen = new Set(await browser.versions(30, { concurrency: 6 }));
    expect([...seen].sort()).toEqual(['v1', 'v2', 'v3']);
    const again = await trellis(['delete', '-f', ISTIO('virtual-service-all-v1.yaml'), '--api', api]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`Error from server (NotFound): error when deleting "${ISTIO('virtual-service-all-v1.yaml')}": virtualservices.networking.istio.io "productpage" not found`);
  });
});
