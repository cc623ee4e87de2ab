import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { EnvoyJson } from '@trellis/envoy-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamTls } from '../../../control/src/translate/cluster-policy.js';
import { compileConfig } from '../../src/config/compile.js';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { dnsNameMatch, parseSubjectAltNames } from '../../src/upstream/upstream-tls.js';
import { startSidecar, type RunningSidecar } from '../dataplane/helpers/client.js';
import { cla, edsCluster, listener, routeConfig, snapshot, staticCluster, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { call, closeAgents } from './helpers.js';

// TLS origination (UpstreamTlsContext) through a real sidecar to real TLS servers on 127.0.144.101-103.
// Certificates: committed fixtures (test/fixtures/tls, made once by its generate.sh with the openssl CLI):
// a test CA, a server certificate it signed (SANs DNS api.example.test, DNS *.wild.example.test,
// URI spiffe://cluster.local/ns/default/sa/api, IP 127.0.144.101), a client certificate, and an unrelated CA.

const FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(`${FIXTURES}${name}`, 'utf8');
const CA_FILE = `${FIXTURES}ca.pem`;

/** What a TLS server saw of one connection. */
interface Seen {
  servername: string | false;
  protocol: string | null;
  alpn: string | false;
  httpVersion: string;
  clientCert: string | null;
}

interface TlsServer {
  ip: string;
  port: number;
  seen: Seen[];
  close(): void;
}

function record(seen: Seen[], socket: TLSSocket, httpVersion: string): void {
  const peer = socket.getPeerCertificate();
  seen.push({
    servername: (socket as TLSSocket & { servername: string | false }).servername,
    protocol: socket.getProtocol(),
    alpn: socket.alpnProtocol,
    httpVersion,
    clientCert: peer && peer.subject ? peer.subject.CN ?? null : null,
  });
}

async function httpsServer(ip: string, opts: https.ServerOptions = {}): Promise<TlsServer> {
  const seen: Seen[] = [];
  const server = https.createServer({ cert: pem('server.pem'), key: pem('server.key'), ...opts }, (req, res) => {
    record(seen, req.socket as TLSSocket, req.httpVersion);
    res.writeHead(200, { 'x-upstream': 'tls' }).end(`https ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  return { ip, port: (server.address() as AddressInfo).port, seen, close: () => server.close() };
}

async function h2sServer(ip: string): Promise<TlsServer> {
  const seen: Seen[] = [];
  const server = http2.createSecureServer({ cert: pem('server.pem'), key: pem('server.key') }, (req, res) => {
    record(seen, req.socket as unknown as TLSSocket, req.httpVersion);
    res.writeHead(200, { 'x-upstream': 'h2s' }).end(`h2 ${req.headers[':scheme']}`);
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  return { ip, port: (server.address() as AddressInfo).port, seen, close: () => server.close() };
}

/** An UpstreamTlsContext transport socket. */
function tls(context: EnvoyJson): EnvoyJson {
  return {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', ...context },
    },
  };
}
const caFile = { trusted_ca: { filename: CA_FILE } };
const dnsSan = (exact: string) => ({ san_type: 'DNS', matcher: { exact } });

let h1: TlsServer;
let h2: TlsServer;
let mtls: TlsServer;
let proxy: RunningSidecar;

beforeAll(async () => {
  h1 = await httpsServer('127.0.144.101');
  h2 = await h2sServer('127.0.144.102');
  mtls = await httpsServer('127.0.144.103', { requestCert: true, rejectUnauthorized: true, ca: pem('ca.pem') });
  const clusters: [string, TlsServer, EnvoyJson, boolean?][] = [
    // SIMPLE with insecureSkipVerify, as the control plane writes it: verifies nothing.
    ['noca', h1, upstreamTls({ mode: 'SIMPLE', sni: 'api.example.test', insecureSkipVerify: true }, 'api.example.test', 'sidecar')],
    ['nosni', h1, tls({ common_tls_context: {} })],
    ['ca-san', h1, tls({ sni: 'api.example.test', common_tls_context: { validation_context: { ...caFile, match_typed_subject_alt_names: [dnsSan('api.example.test')] } } })],
    ['ca-wild', h1, tls({ common_tls_context: { validation_context: { ...caFile, match_typed_subject_alt_names: [dnsSan('x.wild.example.test')] } } })],
    ['ca-uri', h1, tls({ common_tls_context: { validation_context: { trusted_ca: { inline_string: pem('ca.pem') }, match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/ns/default/' } }] } } })],
    ['ca-only', h1, tls({ common_tls_context: { validation_context: caFile } })],
    ['wrong-san', h1, tls({ sni: 'api.example.test', common_tls_context: { validation_context: { ...caFile, match_typed_subject_alt_names: [dnsSan('other.example.test'), { san_type: 'URI', matcher: { exact: 'api.example.test' } }] } } })],
    ['wrong-ca', h1, tls({ common_tls_context: { validation_context: { trusted_ca: { filename: `${FIXTURES}other-ca.pem` } } } })],
    // caCertificates: system -> Node's bundled roots, which don't include the test CA.
    ['system', h1, upstreamTls({ mode: 'SIMPLE', caCertificates: 'system' }, 'api.example.test', 'sidecar')],
    // The control plane's caCertificates + subjectAltNames (untyped match_subject_alt_names), over HTTP/2.
    ['h2', h2, upstreamTls({ mode: 'SIMPLE', caCertificates: CA_FILE, subjectAltNames: ['api.example.test'] }, 'api.example.test', 'sidecar'), true],
    ['h2-wrong-san', h2, upstreamTls({ mode: 'SIMPLE', caCertificates: CA_FILE, subjectAltNames: ['nope.example.test'] }, 'api.example.test', 'sidecar'), true],
    ['client-cert', mtls, tls({ common_tls_context: { validation_context: caFile, tls_certificates: [{ certificate_chain: { filename: `${FIXTURES}client.pem` }, private_key: { filename: `${FIXTURES}client.key` } }] } })],
    ['no-client-cert', mtls, tls({ common_tls_context: { validation_context: caFile } })],
    ['tls13', h1, tls({ common_tls_context: { tls_params: { tls_minimum_protocol_version: 'TLSv1_3' } } })],
    // A TLS cluster and a plaintext one to the same endpoint keep separate pools.
    ['plain', h1, {}],
    ['reuse', h1, tls({ sni: 'api.example.test' })],
  ];
  proxy = await startSidecar(
    snapshot({
      listeners: [listener('virtualOutbound', 15001, 'r')],
      routes: [routeConfig('r', clusters.map(([name]) => vhost(name, name === 'reuse' ? ['reuse-a', 'reuse-b'] : [name], [toCluster({ prefix: '/' }, name)])))],
      clusters: clusters.map(([name, server, extra, isH2]) => staticCluster(name, [{ address: server.ip, port: server.port }], { h2: isH2 ?? false, extra })),
    }),
  );
});

afterAll(async () => {
  closeAgents();
  await proxy?.close();
  for (const s of [h1, h2, mtls]) s?.close();
});

/** One request; the access log's response flags of it. */
async function get(host: string): Promise<{ status: number; body: string; flags: string }> {
  const before = proxy.logs.length;
  const a = await call(proxy.port, host, '/x', { fresh: true });
  const deadline = Date.now() + 1000;
  while (proxy.logs.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return { status: a.status, body: a.body, flags: proxy.logs[proxy.logs.length - 1]?.responseFlagsString ?? '' };
}

async function stat(name: string): Promise<number> {
  const a = proxy.sidecar.adminAddress();
  const text = await (await fetch(`http://${a.address}:${a.port}/stats`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}: `));
  return line === undefined ? NaN : Number(line.slice(name.length + 2));
}

describe('TLS origination (UpstreamTlsContext)', () => {
  it("SIMPLE without a CA: the untrusted certificate is accepted; SNI as configured; Envoy's client default TLS 1.2", async () => {
    const n = h1.seen.length;
    const r = await get('noca');
    expect(r).toMatchObject({ status: 200, body: 'https /x' });
    expect(h1.seen.slice(n)).toEqual([{ servername: 'api.example.test', protocol: 'TLSv1.2', alpn: 'http/1.1', httpVersion: '1.1', clientCert: null }]);
  });

  it('without sni no SNI is sent (not the Host header), as in Envoy', async () => {
    const n = h1.seen.length;
    expect((await get('nosni')).status).toBe(200);
    expect(h1.seen[n]!.servername).toBe(false);
  });

  it('with a CA: a certificate it signed passes with a matching DNS SAN, a wildcard SAN, a URI SAN prefix, or no SAN matcher', async () => {
    for (const host of ['ca-san', 'ca-wild', 'ca-uri', 'ca-only']) expect(await get(host), host).toMatchObject({ status: 200, flags: '-' });
  });

  it('a SAN that matches nothing, or a CA that did not sign the certificate (also the bundled roots of caCertificates: system): 503 UF, counted as connect failures, nothing reaches the server', async () => {
    const n = h1.seen.length;
    for (const host of ['wrong-san', 'wrong-ca', 'system']) {
      const r = await get(host);
      expect(r.status, host).toBe(503);
      expect(r.flags, host).toBe('UF');
    }
    expect(h1.seen.length).toBe(n);
    expect(await stat('cluster.wrong-san.upstream_cx_connect_fail')).toBeGreaterThanOrEqual(1);
    expect(await stat('cluster.wrong-ca.upstream_cx_connect_fail')).toBeGreaterThanOrEqual(1);
  });

  it("HTTP/2 over TLS: ALPN h2, :scheme https; the control plane's caCertificates + subjectAltNames verify (a wrong SAN is 503 UF)", async () => {
    const n = h2.seen.length;
    expect(await get('h2')).toMatchObject({ status: 200, body: 'h2 https' });
    expect(h2.seen[n]).toMatchObject({ servername: 'api.example.test', alpn: 'h2', httpVersion: '2.0' });
    expect(await get('h2-wrong-san')).toMatchObject({ status: 503, flags: 'UF' });
    expect(h2.seen.length).toBe(n + 1);
  });

  it('tls_certificates: the client certificate is presented to a server that requires one; without it the handshake fails (503 UF)', async () => {
    expect(await get('client-cert')).toMatchObject({ status: 200 });
    expect(mtls.seen.at(-1)!.clientCert).toBe('client.example.test');
    expect(await get('no-client-cert')).toMatchObject({ status: 503, flags: 'UF' });
  });

  it('keep-alive: requests with different Host headers share one TLS connection (the SNI is the cluster\'s, not the Host\'s)', async () => {
    for (let i = 0; i < 6; i++) expect((await get(i % 2 ? 'reuse-a' : 'reuse-b')).status).toBe(200);
    expect(await stat('cluster.reuse.upstream_cx_total')).toBe(1);
    expect(h1.seen.at(-1)!.servername).toBe('api.example.test');
  });

  it('tls_params: minimum TLSv1_3 raises the version; the plaintext cluster to the TLS port fails on its own pool', async () => {
    const n = h1.seen.length;
    expect((await get('tls13')).status).toBe(200);
    expect(h1.seen[n]!.protocol).toBe('TLSv1.3');
    // Plaintext HTTP to a TLS server: the server answers a TLS alert / closes, never a response.
    expect((await get('plain')).status).toBe(503);
    expect((await get('noca')).status).toBe(200);
  });
});

describe('compiling UpstreamTlsContext', () => {
  const compileWith = (extra: EnvoyJson) => compileConfig(snapshot({ clusters: [edsCluster('c', { extra })], endpoints: [cla('c', [{ port: 8080 }])] })).clusters.get('c')!;
  const rejection = (extra: EnvoyJson) => {
    try {
      compileWith(extra);
    } catch (e) {
      if (e instanceof ConfigRejected) return e.message;
      throw e;
    }
    throw new Error('expected a rejection');
  };

  it("the control plane's SIMPLE: SNI, public roots without caCertificates, nothing with insecureSkipVerify, TLS 1.2; caCertificates read from the file, SANs kept", () => {
    const simple = compileWith(upstreamTls({ mode: 'SIMPLE', insecureSkipVerify: true }, 'api.example.test', 'sidecar')).tls!;
    expect(simple).toMatchObject({ sni: 'api.example.test', validation: null, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', clientCertificate: null });
    expect(compileWith(upstreamTls({ mode: 'SIMPLE' }, 'api.example.test', 'sidecar')).tls!.validation).not.toBeNull();
    const verified = compileWith(upstreamTls({ mode: 'SIMPLE', caCertificates: CA_FILE, subjectAltNames: ['a.example'] }, 'api.example.test', 'sidecar')).tls!;
    expect(verified.validation!.trustedCa).toBe(pem('ca.pem'));
    expect(verified.validation!.subjectAltNames.map((s) => [s.type, s.exactDns])).toEqual([[null, 'a.example']]);
    expect(verified.fingerprint).not.toBe(simple.fingerprint);
    expect(compileWith({}).tls).toBeNull();
    expect(compileWith({ transport_socket: { name: 'envoy.transport_sockets.raw_buffer' } }).tls).toBeNull();
  });

  it("NACKs what can't be honoured, with Envoy's messages where Envoy has one", () => {
    expect(rejection(tls({ common_tls_context: { validation_context: { match_typed_subject_alt_names: [dnsSan('a')] } } }))).toBe(
      'cluster c: transport_socket.typed_config.common_tls_context.validation_context: SAN-based verification of peer certificates without trusted CA is insecure and not allowed',
    );
    expect(rejection(tls({ common_tls_context: { validation_context: { trusted_ca: { filename: '/nonexistent/ca.pem' } } } }))).toMatch(
      /^cluster c: transport_socket\.typed_config\.common_tls_context\.validation_context\.trusted_ca\.filename: failed to load \/nonexistent\/ca\.pem/,
    );
    expect(rejection(tls({ common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }] } }))).toMatch(/tls_certificate_sds_secret_configs: SDS is not supported/);
    expect(rejection(tls({ common_tls_context: { tls_params: { cipher_suites: ['ECDHE-RSA-AES128-GCM-SHA256'] } } }))).toMatch(/cipher_suites is not supported/);
    expect(rejection(tls({ common_tls_context: { validation_context: { ...caFile, crl: { filename: CA_FILE } } } }))).toMatch(/certificate revocation lists are not supported/);
    expect(rejection(tls({ common_tls_context: { validation_context: { trusted_ca: { inline_string: 'not a PEM' } } } }))).toBe(
      'cluster c: transport_socket.typed_config.common_tls_context.validation_context.trusted_ca: failed to load trusted CA certificates: no PEM certificate found',
    );
    expect(rejection(tls({ common_tls_context: { validation_context: { trusted_ca: { inline_string: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n' } } } }))).toMatch(/failed to load trusted CA certificates/);
    expect(rejection(tls({ common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: pem('client.pem') }, private_key: { inline_string: pem('server.key') } }] } }))).toMatch(/invalid TLS material/);
  });

  it("reads Node's subjectaltname (quoted values too) and matches DNS wildcards as Envoy's dnsNameMatch", () => {
    expect(parseSubjectAltNames('DNS:a.example, IP Address:10.0.0.1, URI:spiffe://td/ns/x, email:a@b.c, DNS:"we,ird"')).toEqual([
      { type: 'DNS', value: 'a.example' },
      { type: 'IP_ADDRESS', value: '10.0.0.1' },
      { type: 'URI', value: 'spiffe://td/ns/x' },
      { type: 'EMAIL', value: 'a@b.c' },
      { type: 'DNS', value: 'we,ird' },
    ]);
    expect(dnsNameMatch('x.wild.example.test', '*.wild.example.test')).toBe(true);
    expect(dnsNameMatch('a.x.wild.example.test', '*.wild.example.test')).toBe(false);
    expect(dnsNameMatch('wild.example.test', '*.wild.example.test')).toBe(false);
    expect(dnsNameMatch('API.example.test', 'api.example.test')).toBe(true);
  });
});
