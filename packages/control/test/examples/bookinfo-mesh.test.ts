import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control-plane.js';
import { LocalCluster } from '../../src/local/index.js';
import { eventually } from '../local/helpers.js';
import { BOOKINFO, ISTIO_BOOKINFO, TRELLIS, http, reviewsShown, type HttpResult } from './bookinfo-helpers.js';

// examples/bookinfo under `trellis up`'s machinery (control plane + local pods with injected sidecars, pod IPs from
// 127.0.175.2) with Istio's own networking YAML added to the folder unchanged, as a user would copy it in.
// The folder is a temporary copy, so the test can add and remove rules.

const DIR = mkdtempSync(join(tmpdir(), 'trellis-bookinfo-'));
const APP = join(DIR, 'bookinfo');

/** Adds one of Istio's Bookinfo samples to the mesh's folder, as it is. */
const applyIstio = (file: string) => cpSync(join(ISTIO_BOOKINFO, file), join(DIR, file));
const remove = (file: string) => unlinkSync(join(DIR, file));

describe('examples/bookinfo in the mesh, with Istio\'s routing rules', () => {
  let plane: ControlPlane;
  let cluster: LocalCluster;
  /** The productpage pod's sidecar: pages are requested through it, as another pod of the mesh would. */
  let sidecar: string;

  /** A product page through the mesh: `GET http://productpage:9080/<path>` to a sidecar's outbound listener. */
  const viaMesh = (path: string, opts: Parameters<typeof http>[1] = {}): Promise<HttpResult> =>
    http(sidecar, { ...opts, target: `http://productpage:9080${path}`, headers: { host: 'productpage:9080', ...opts.headers } });

  async function versions(n: number, headers: Record<string, string> = {}): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      const page = await viaMesh('/productpage', { headers });
      seen.push(page.status === 200 ? reviewsShown(page.body) : `HTTP ${page.status}`);
    }
    return seen;
  }

  beforeAll(async () => {
    if (!existsSync(TRELLIS.replace(/bin\/trellis\.js$/, 'packages/cli/dist/main.js'))) throw new Error('build first (npx tsc -b): the sidecar runs bin/trellis.js');
    // The demo's own routing (networking/) stays out: the test adds Istio's files instead.
    cpSync(BOOKINFO, APP, { recursive: true, filter: (src) => !src.includes('/networking') });
    // No ingress gateway here: the traffic generator loads productpage through its sidecar directly.
    const generator = join(APP, 'traffic-generator.yaml');
    writeFileSync(
      generator,
      readFileSync(generator, 'utf8')
        .replace('"http://istio-ingressgateway.istio-system:80"', '"http://productpage:9080"')
        .replace(/(name: REPORT_SECONDS\s+value: )"10"/, '$1"1"'),
    );
    applyIstio('destination-rule-all.yaml');
    applyIstio('virtual-service-all-v1.yaml');
    plane = await ControlPlane.start({ configDir: DIR, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiPort: 0, debounceMs: 30 });
    cluster = LocalCluster.start(plane, {
      proxyCommand: [process.execPath, TRELLIS, 'proxy'],
      firstPodIp: '127.0.175.2',
      probeIntervalMs: 100,
      gracePeriodMs: 2000,
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await plane?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  test('every Deployment runs one pod with a sidecar, and all become ready', async () => {
    const pods = await eventually('7 ready pods', () => {
      const list = cluster.list();
      return list.length === 7 && list.every((p) => p.ready) && list;
    }, 20_000);
    expect(pods.map((p) => p.deployment).sort()).toEqual([
      'details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'traffic-generator',
    ]);
    expect(pods.every((p) => p.sidecar && p.containers.some((c) => c.name === 'trellis-proxy'))).toBe(true);
    sidecar = `http://${pods.find((p) => p.deployment === 'productpage-v1')!.podIP}:15001`;
    expect(plane.source.current().issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  test('virtual-service-all-v1: the page shows the details and reviews v1, through the sidecars', async () => {
    // Endpoints reach the sidecars a moment after the pods are ready.
    const page = await eventually('a full product page', async () => {
      const p = await viaMesh('/productpage');
      return p.status === 200 && !p.body.includes('Error fetching') && p;
    });
    expect(page.body).toContain('<dt>ISBN-10:</dt><dd>1234567890</dd>');
    expect(await versions(10)).toEqual(Array(10).fill('v1'));
  });

  test('virtual-service-reviews-jason-v2-v3: jason (end-user from his session) sees v2, everyone else v3', async () => {
    remove('virtual-service-all-v1.yaml');
    applyIstio('virtual-service-reviews-jason-v2-v3.yaml');
    await eventually('anonymous pages from v3', async () => (await versions(1))[0] === 'v3', 5000);
    const login = await viaMesh('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: 'http://productpage:9080/productpage' },
      body: 'username=jason',
    });
    expect(login.status).toBe(302);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(await versions(10, { cookie })).toEqual(Array(10).fill('v2'));
    expect(await versions(5)).toEqual(Array(5).fill('v3'));
  });

  test("end-user reaches the ratings hop: a ratings rule for jason (no pods behind it) breaks only jason's stars", async () => {
    // Like virtual-service-ratings-test-abort.yaml, without relying on fault injection: jason's ratings calls go
    // to subset v2, which has no pods.
    writeFileSync(
      join(DIR, 'ratings-jason.yaml'),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination: { host: ratings, subset: v2 }
  - route:
    - destination: { host: ratings, subset: v1 }
`,
    );
    const login = await viaMesh('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=jason' });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await eventually("jason's ratings failing", async () => (await versions(1, { cookie }))[0] === 'ratings error', 5000);
    expect(await versions(5, { cookie })).toEqual(Array(5).fill('ratings error'));
    expect(await versions(5)).toEqual(Array(5).fill('v3'));
  });

  test('the traffic generator loads pages through its sidecar and reports them', async () => {
    const pod = cluster.list().find((p) => p.deployment === 'traffic-generator')!;
    const lines = () => cluster.logs('default', pod.name, 'traffic-generator')!.map((l) => l.line);
    expect(lines()[0]).toBe(`loading http://productpage:9080/productpage 2/s through the sidecar at ${pod.podIP}:15001`);
    const report = await eventually('a report of v3 pages', () => lines().find((l) => /last 1s: \d+ pages \(v3 \d+\)$/.test(l)), 5000);
    expect(report).toMatch(/^http:\/\/productpage:9080\/productpage last 1s: [1-3] pages \(v3 [1-3]\)$/);
  });
});
