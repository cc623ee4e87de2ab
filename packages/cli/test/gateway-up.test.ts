import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SIDECAR_CONTAINER_NAME } from '@trellis/control';
import { SIDECAR_NODE_FLAGS } from '@trellis/proxy';
import { up } from '../src/commands/up.js';
import { eventually } from '../../control/test/local/helpers.js';
import { TestPki } from '../../proxy/test/gateway/certs.js';
import { BOOKINFO, ISTIO, Sink } from './istio-tasks/helpers.js';

// The Bookinfo demo through the ingress gateway, as Istio's getting-started has it: `trellis up` (in-process,
// plain output, pod IPs from 127.0.191.2) on a temporary folder holding examples/bookinfo and Istio's
// bookinfo-gateway.yaml, plus an HTTPS/host-restricted Gateway of our own with its TLS Secret. Requests go to the
// gateway URL `trellis up` prints.

const DIR = mkdtempSync(join(tmpdir(), 'trellis-gateway-up-'));
const GATEWAY_FILE = join(DIR, 'bookinfo-gateway.yaml');
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  cn?: string;
}

function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string; servername?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  const client = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
        ...(opts.ca ? { ca: opts.ca, servername: opts.servername } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const cert = 'getPeerCertificate' in res.socket ? (res.socket as tls.TLSSocket).getPeerCertificate() : undefined;
          resolve({ status: res.statusCode!, headers: res.headers, body, cn: cert?.subject?.CN as string | undefined });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('trellis up: Bookinfo through the ingress gateway', () => {
  const out = new Sink();
  const stop = new AbortController();
  const pki = new TestPki();
  const cert = pki.issue('bookinfo.example.com');
  let running: Promise<number>;
  let gw: string;
  let gwIp: string;

  beforeAll(async () => {
    cpSync(BOOKINFO, join(DIR, 'bookinfo'), { recursive: true, filter: (src) => !src.endsWith('traffic-generator.yaml') && !src.includes('/networking') });
    writeFileSync(GATEWAY_FILE, readFileSync(ISTIO('bookinfo-gateway.yaml')));
    writeFileSync(
      join(DIR, 'secure-gateway.yaml'),
      `apiVersion: v1
kind: Secret
metadata: { name: bookinfo-cert, namespace: istio-system }
type: kubernetes.io/tls
data: { tls.crt: ${b64(cert.cert)}, tls.key: ${b64(cert.key)} }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo-secure }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [bookinfo.example.com]
    tls: { mode: SIMPLE, credentialName: bookinfo-cert }
  - port: { number: 9000, name: http-named, protocol: HTTP }
    hosts: [bookinfo.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bookinfo-secure }
spec:
  hosts: [bookinfo.example.com]
  gateways: [bookinfo-secure]
  http:
  - route: [{ destination: { host: productpage, port: { number: 9080 } } }]
`,
    );
    running = up([DIR, '--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', 'off', '--quiet'], out, {
      signal: stop.signal,
      firstPodIp: '127.0.191.2',
    });
    // `trellis up` prints the gateway's URL once its listener is up (8080: Istio's Bookinfo Gateway port).
    const m = await eventually('the gateway URL', () => /^gateway istio-system\/istio-ingressgateway-[^:]+: (http:\/\/([\d.]+):8080) \(listener 0\.0\.0\.0_8080\)$/m.exec(out.text), 25_000);
    gw = m[1]!;
    gwIp = m[2]!;
    await eventually('the product page through the gateway', async () => {
      const r = await send(`${gw}/productpage`).catch(() => undefined);
      return r?.status === 200 && !r.body.includes('Error fetching') && r;
    }, 20_000);
  }, 50_000);

  afterAll(async () => {
    stop.abort();
    await running;
    pki.cleanup();
    rmSync(DIR, { recursive: true, force: true });
  }, 20_000);

  test('the gateway pod runs in istio-system with Istio\'s labels and `trellis proxy --gateway`; its other ports are printed too', () => {
    expect(out.text).toMatch(/^pod istio-system\/istio-ingressgateway-\S+ 127\.0\.191\.\d+ ready 1\/1 Running/m);
    expect(out.text).toMatch(new RegExp(`^gateway istio-system/istio-ingressgateway-\\S+: https://${gwIp.replace(/\./g, '\\.')}:8443 \\(listener 0\\.0\\.0\\.0_8443\\)$`, 'm'));
    expect(out.text).toMatch(new RegExp(`^gateway istio-system/istio-ingressgateway-\\S+: http://${gwIp.replace(/\./g, '\\.')}:9000 \\(listener 0\\.0\\.0\\.0_9000\\)$`, 'm'));
  });

  test('sidecars and the gateway run with the sidecar Node flags: `node --single-threaded-gc --v8-pool-size=1 bin/trellis.js proxy`', async () => {
    const [, api] = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text) ?? [];
    expect(api).toBeDefined();
    const list = (await (await fetch(`${api}/api/v1/pods`)).json()) as { items: { spec: { containers: { name: string; command?: string[] }[] } }[] };
    const proxies = list.items.flatMap((p) => p.spec.containers.filter((c) => c.name === SIDECAR_CONTAINER_NAME));
    // Bookinfo's six pods carry a sidecar, and the gateway is one.
    expect(proxies.length).toBe(7);
    for (const c of proxies) {
      expect(c.command?.slice(0, 1 + SIDECAR_NODE_FLAGS.length)).toEqual([process.execPath, ...SIDECAR_NODE_FLAGS]);
      expect(c.command?.at(-1) === 'proxy' || c.command?.at(-1) === '--gateway').toBe(true);
    }
    expect(SIDECAR_NODE_FLAGS).toEqual(['--single-threaded-gc', '--v8-pool-size=1']);
  });

  test('/productpage, /static/..., /login, /logout and /api/v1/products answer through the gateway; other paths 404', async () => {
    const page = await send(`${gw}/productpage`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('The Comedy of Errors');
    const css = await send(`${gw}/static/bookinfo.css`);
    expect([css.status, css.headers['content-type']]).toEqual([200, expect.stringContaining('text/css')]);
    const login = await send(`${gw}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=jason' });
    expect(login.status).toBe(302);
    expect(String(login.headers['set-cookie'])).toMatch(/session=/);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await send(`${gw}/productpage`, { headers: { cookie } })).body).toMatch(/jason/);
    const logout = await send(`${gw}/logout`);
    expect([logout.status, logout.headers.location]).toEqual([302, '/productpage']);
    const products = await send(`${gw}/api/v1/products`);
    expect(products.status).toBe(200);
    expect((JSON.parse(products.body) as { title: string }[])[0]!.title).toBe('The Comedy of Errors');
    expect((await send(`${gw}/`)).status).toBe(404);
    expect((await send(`${gw}/health`)).status).toBe(404);
  });

  test('a Gateway restricted to bookinfo.example.com: that host is routed, any other gets 404', async () => {
    const url = `http://${gwIp}:9000/productpage`;
    expect((await send(url, { headers: { host: 'bookinfo.example.com' } })).status).toBe(200);
    expect((await send(url, { headers: { host: 'bookinfo.example.com:9000' } })).status).toBe(200);
    expect((await send(url, { headers: { host: 'other.example.com' } })).status).toBe(404);
  });

  test('HTTPS with the Secret from the folder: TLS terminated with its certificate (port 443 -> 8443 by the gateway Service)', async () => {
    const r = await send(`https://${gwIp}:8443/productpage`, { ca: pki.ca.cert, servername: 'bookinfo.example.com', headers: { host: 'bookinfo.example.com' } });
    expect(r.status).toBe(200);
    expect(r.cn).toBe('bookinfo.example.com');
    expect(r.body).toContain('The Comedy of Errors');
    const wrongHost = await send(`https://${gwIp}:8443/productpage`, { ca: pki.ca.cert, servername: 'bookinfo.example.com', headers: { host: 'other.example.com' } });
    expect(wrongHost.status).toBe(404);
  });

  test('the gateway Service resolves in the mesh: istio-ingressgateway.istio-system:80 from a sidecar reaches it', async () => {
    const pod = /^pod default\/productpage-v1-\S+ ([\d.]+) ready 2\/2/m.exec(out.text);
    expect(pod).not.toBeNull();
    const r = await send(`http://${pod![1]}:15001/api/v1/products`, { headers: { host: 'istio-ingressgateway.istio-system' } });
    expect(r.status).toBe(200);
    expect(r.body).toContain('The Comedy of Errors');
  });

  test('editing the VirtualService changes routing live', async () => {
    const original = readFileSync(GATEWAY_FILE, 'utf8');
    writeFileSync(GATEWAY_FILE, original.replace(/    - uri:\n        exact: \/logout\n/, '').replace('exact: /login', 'exact: /index.html'));
    try {
      await eventually('/logout no longer routed, /index.html routed instead of /login', async () => {
        const [logout, index] = await Promise.all([send(`${gw}/logout`), send(`${gw}/index.html`)]);
        return logout.status === 404 && index.status === 200;
      }, 10_000);
      expect((await send(`${gw}/login`, { method: 'POST', body: 'username=x' })).status).toBe(404);
      expect((await send(`${gw}/productpage`)).status).toBe(200);
    } finally {
      writeFileSync(GATEWAY_FILE, original);
    }
    await eventually('/logout routed again', async () => (await send(`${gw}/logout`)).status === 302, 10_000);
  });
});
