import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '@trellis/control';
import { configDir, eventually, startSidecar, type SidecarProcess } from '../e2e/harness.js';

// Istio's TLS origination for an external HTTPS API, end to end: a ServiceEntry (port 80 HTTP, port 443
// HTTPS), a VirtualService sending port 80 to 443 and a DestinationRule with `tls.mode: SIMPLE` on 443
// (the pattern of Istio's egress-rule-google-apis sample) -> `trellis control` -> ADS -> a real
// `trellis proxy` process (the compiled bin: run `npx tsc -b` first) -> a real TLS server.
// The server on 127.0.144.111 has the committed fixture certificate (test/fixtures/tls); the client sidecar
// is on 127.0.144.120.

const FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${FIXTURES}${name}`, 'utf8');

/** One external host served by `port`, originated with `tls` (a DestinationRule tls block, YAML flow). */
const external = (host: string, port: number, tls: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host.split('.')[0]}, namespace: default }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - { number: 80, name: http, protocol: HTTP }
  - { number: 443, name: https, protocol: HTTPS }
  endpoints:
  - { address: 127.0.144.111, ports: { http: ${port}, https: ${port} } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host.split('.')[0]}-to-443, namespace: default }
spec:
  hosts: [${host}]
  http:
  - match: [{ port: 80 }]
    route: [{ destination: { host: ${host}, port: { number: 443 } } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host.split('.')[0]}-tls, namespace: default }
spec:
  host: ${host}
  trafficPolicy:
    portLevelSettings:
    - port: { number: 443 }
      tls: ${tls}
`;

describe('tls.mode SIMPLE through control plane and sidecar', () => {
  let server: https.Server;
  const seen: { sni: string | false; url: string }[] = [];
  let config: Awaited<ReturnType<typeof configDir>>;
  let plane: ControlPlane;
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    server = https.createServer({ cert: pem('server.pem'), key: pem('server.key') }, (req, res) => {
      seen.push({ sni: (req.socket as TLSSocket & { servername: string | false }).servername, url: req.url! });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 'external-tls', path: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.144.111', r));
    const port = (server.address() as AddressInfo).port;
    config = await configDir({
      // Verified: the test CA, and the SAN the server certificate has.
      'api.yaml': external('api.example.test', port, `{ mode: SIMPLE, caCertificates: ${FIXTURES}ca.pem, subjectAltNames: [api.example.test] }`),
      // SIMPLE with insecureSkipVerify: not verified (the self-signed chain is accepted); SNI is the host.
      'open.yaml': external('open.example.test', port, '{ mode: SIMPLE, insecureSkipVerify: true }'),
      // SIMPLE without caCertificates: verified against the public roots (current Istio), which a
      // self-signed test CA is not among.
      'public.yaml': external('public.example.test', port, '{ mode: SIMPLE }'),
      // Verified against a SAN the certificate lacks: 503.
      'bad.yaml': external('bad.example.test', port, `{ mode: SIMPLE, caCertificates: ${FIXTURES}ca.pem, subjectAltNames: [payments.example.test], sni: api.example.test }`),
    });
    plane = await ControlPlane.start({ configDir: config.dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0, debounceMs: 50 });
    sidecar = await startSidecar('127.0.144.120', `127.0.0.1:${plane.xdsPort}`);
  }, 30_000);

  afterAll(async () => {
    await sidecar?.stop();
    await plane?.close();
    server?.close();
    await config?.remove();
  });

  it('the app calls http://api.example.test; the sidecar originates TLS to 443, verifying the CA and SAN; SNI is the host', async () => {
    await eventually('api reachable', async () => (await sidecar.call('api.example.test')).status === 200);
    const n = seen.length;
    const r = await sidecar.call('api.example.test', '/v1/things?x=1');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ version: 'external-tls', path: '/v1/things?x=1' });
    expect(seen.slice(n)).toEqual([{ sni: 'api.example.test', url: '/v1/things?x=1' }]);
    // The CDS update with TLS clusters was accepted (ACKed): /config_dump shows the UpstreamTlsContext.
    const dump = JSON.parse(await sidecar.adminText('/config_dump')) as { configs: { dynamic_active_clusters?: { cluster: Record<string, any> }[] }[] };
    const cluster = dump.configs[0]!.dynamic_active_clusters!.map((c) => c.cluster).find((c) => c.name === 'outbound|443||api.example.test')!;
    expect(cluster.transport_socket.typed_config).toMatchObject({
      sni: 'api.example.test',
      common_tls_context: { validation_context: { trusted_ca: { filename: `${FIXTURES}ca.pem` }, match_subject_alt_names: [{ exact: 'api.example.test' }] } },
    });
  });

  it('SIMPLE with insecureSkipVerify accepts any certificate', async () => {
    await eventually('open reachable', async () => (await sidecar.call('open.example.test')).status === 200);
    expect(seen.at(-1)!.sni).toBe('open.example.test');
  });

  it('SIMPLE without caCertificates verifies against the public roots: a self-signed chain fails with 503', async () => {
    await eventually('public routed', async () => (await sidecar.call('public.example.test')).status !== 404);
    const n = seen.length;
    expect((await sidecar.call('public.example.test')).status).toBe(503);
    expect(seen.length).toBe(n);
  });

  it('a certificate without the required SAN: 503 with the UF flag, and the request never reaches the server', async () => {
    await eventually('bad routed', async () => (await sidecar.call('bad.example.test')).status !== 404);
    const n = seen.length;
    for (let i = 0; i < 3; i++) {
      // The connection-failure local reply: the UF flag's (Envoy's text).
      expect(await sidecar.call('bad.example.test')).toEqual({ status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure' });
    }
    expect(seen.length).toBe(n);
    const stats = await sidecar.adminText('/stats?filter=bad.example.test');
    // Every attempt (Istio's default retries included) fails its handshake.
    const fails = /^cluster\.outbound\|443\|\|bad\.example\.test\.upstream_cx_connect_fail: (\d+)$/m.exec(stats);
    expect(Number(fails?.[1])).toBeGreaterThanOrEqual(3);
  });
});
