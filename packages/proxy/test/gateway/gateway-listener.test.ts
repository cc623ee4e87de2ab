import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EnvoyJson } from '@trellis/envoy-api';
import { ConfigRejected } from '../../src/config/raw-snapshot.js';
import { compileConfig } from '../../src/config/compile.js';
import { Sidecar } from '../../src/sidecar.js';
import http from 'node:http';
import { cla, edsCluster, hcm, listener, routeConfig, snapshot, toCluster, vhost } from '../dataplane/helpers/resources.js';
import { echoServer, type Echo, type TestServer } from '../dataplane/helpers/servers.js';
import { TestPki, type KeyPair } from './certs.js';

// A gateway's TLS listeners: chains with a DownstreamTlsContext, picked by SNI, terminating TLS in front of
// the HTTP/1.1 and HTTP/2 codecs; and require_tls (httpsRedirect). Pod IP from this file's loopback range.
const POD_IP = '127.0.190.1';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const TLS_INSPECTOR = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } };

function transportSocket(pair: KeyPair, extra: { ca?: string; require?: boolean } = {}): EnvoyJson {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { inline_string: pair.cert }, private_key: { inline_string: pair.key } }],
        alpn_protocols: ['h2', 'http/1.1'],
        ...(extra.ca ? { validation_context: { trusted_ca: { inline_string: extra.ca } } } : {}),
      },
      ...(extra.require !== undefined ? { require_client_certificate: { value: extra.require } } : {}),
    },
  };
}

function tlsChain(name: string, routeName: string, pair: KeyPair, serverNames: string[] = [], extra = {}): EnvoyJson {
  return {
    name,
    ...(serverNames.length > 0 ? { filter_chain_match: { server_names: serverNames } } : {}),
    filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(routeName, { strip_any_host_port: true }) }],
    transport_socket: transportSocket(pair, extra),
  };
}

const tlsListener = (name: string, chains: EnvoyJson[]): EnvoyJson => ({
  name,
  address: { socket_address: { address: '0.0.0.0', port_value: 0 } },
  listener_filters: [TLS_INSPECTOR],
  filter_chains: chains,
});

let pki: TestPki;
let shop: KeyPair;
let apps: KeyPair;
let client: KeyPair;
let upstreamA: TestServer;
let upstreamB: TestServer;
let gw: Sidecar;

function resources(listeners: EnvoyJson[]) {
  return snapshot({
    listeners,
    routes: [
      routeConfig('https.shop', [vhost('shop', ['*'], [toCluster({ prefix: '/' }, 'a')])]),
      routeConfig('https.apps', [vhost('apps', ['*'], [toCluster({ prefix: '/' }, 'b')])]),
      routeConfig('http.redirect', [vhost('shop.example.com:80', ['shop.example.com'], [toCluster({ prefix: '/' }, 'a')], { require_tls: 'ALL' }), vhost('plain', ['plain.example.com'], [toCluster({ prefix: '/' }, 'b')])]),
    ],
    clusters: [edsCluster('a'), edsCluster('b')],
    endpoints: [cla('a', [{ port: upstreamA.port }]), cla('b', [{ port: upstreamB.port }])],
  });
}

const portOf = (name: string) => gw.listenerAddress(name)!.port;

/** An HTTPS/1.1 request with SNI `servername`, trusting the test CA; resolves with the echo and the server's certificate CN. */
function httpsGet(port: number, servername: string, path = '/', opts: { cert?: KeyPair } = {}): Promise<{ status: number; echo: Echo; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: POD_IP, port, path, servername, ca: pki.ca.cert, headers: { host: servername }, agent: false, ...(opts.cert ? { cert: opts.cert.cert, key: opts.cert.key } : {}) },
      (res) => {
        const cn = String((res.socket as tls.TLSSocket).getPeerCertificate().subject?.CN ?? '');
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, echo: JSON.parse(body) as Echo, cn }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function plainGet(port: number, path: string, host: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: POD_IP, port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  pki = new TestPki();
  shop = pki.issue('shop.example.com');
  apps = pki.issue('*.apps.example.com');
  client = pki.issue('client.example.com');
  upstreamA = await echoServer('a');
  upstreamB = await echoServer('b');
  gw = new Sidecar({ podIp: POD_IP, ports: { outbound: 0, inbound: 0, admin: 0, health: 0 } });
  await gw.start();
  gw.apply(
    resources([
      tlsListener('sni', [tlsChain('shop', 'https.shop', shop, ['shop.example.com']), tlsChain('apps', 'https.apps', apps, ['*.apps.example.com'])]),
      tlsListener('default', [tlsChain('only', 'https.shop', shop)]),
      tlsListener('mutual', [tlsChain('m', 'https.shop', shop, [], { ca: pki.ca.cert, require: true })]),
      listener('plain', 0, 'http.redirect', { strip_any_host_port: true }),
    ]),
  );
  await gw.settled();
});

afterAll(async () => {
  await gw?.close(200);
  await upstreamA?.close();
  await upstreamB?.close();
  pki?.cleanup();
});

describe('TLS termination', () => {
  test('HTTP/1.1 over TLS: the chain\'s certificate, its routes, :scheme https upstream (x-forwarded-proto)', async () => {
    const r = await httpsGet(portOf('default'), 'shop.example.com', '/x?y=1');
    expect(r.status).toBe(200);
    expect(r.cn).toBe('shop.example.com');
    expect(r.echo.name).toBe('a');
    expect(r.echo.url).toBe('/x?y=1');
    expect(r.echo.headers['x-forwarded-proto']).toBe('https');
  });

  test('HTTP/2 when ALPN picks h2', async () => {
    const session = http2.connect(`https://${POD_IP}:${portOf('default')}`, { ca: pki.ca.cert, servername: 'shop.example.com' });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/h2', ':authority': 'shop.example.com' });
        let status = 0;
        let body = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (c) => (body += c));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
        s.end();
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(status).toBe(200);
      expect((JSON.parse(body) as Echo).url).toBe('/h2');
    } finally {
      session.close();
    }
  });

  test('SNI picks the chain: exact name, then wildcard; each with its own certificate and routes', async () => {
    const a = await httpsGet(portOf('sni'), 'shop.example.com');
    expect([a.cn, a.echo.name]).toEqual(['shop.example.com', 'a']);
    const b = await httpsGet(portOf('sni'), 'api.apps.example.com');
    expect([b.cn, b.echo.name]).toEqual(['*.apps.example.com', 'b']);
  });

  test('a server name no chain matches (and no default chain) fails the handshake', async () => {
    await expect(httpsGet(portOf('sni'), 'other.example.net')).rejects.toThrow();
  });

  test('MUTUAL: a client without a certificate is refused; one signed by the trusted CA gets through', async () => {
    await expect(httpsGet(portOf('mutual'), 'shop.example.com')).rejects.toThrow();
    const r = await httpsGet(portOf('mutual'), 'shop.example.com', '/', { cert: client });
    expect(r.status).toBe(200);
  });
});

describe('require_tls (Gateway httpsRedirect)', () => {
  test('plaintext request to a require_tls ALL virtual host: 301 to the https URL, nothing upstream', async () => {
    const before = upstreamA.seen.length;
    const res = await plainGet(portOf('plain'), '/path?q=1', 'shop.example.com:80');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://shop.example.com/path?q=1');
    expect(upstreamA.seen.length).toBe(before);
    const plain = await plainGet(portOf('plain'), '/', 'plain.example.com');
    expect(plain.status).toBe(200);
  });
});

describe('admin', () => {
  test('/config_dump redacts private keys (Envoy: sensitive fields); /listeners lists where each listener is, TLS or not', async () => {
    const admin = gw.adminAddress();
    const dump = await (await fetch(`http://${admin.address}:${admin.port}/config_dump`)).text();
    expect(dump).toContain('[redacted]');
    expect(dump).not.toContain('PRIVATE KEY');
    expect(dump).toContain('BEGIN CERTIFICATE');
    const listeners = (await (await fetch(`http://${admin.address}:${admin.port}/listeners?format=json`)).json()) as any;
    const byName = new Map(listeners.listener_statuses.map((l: any) => [l.name, l]));
    expect(byName.get('sni')).toMatchObject({ local_address: { socket_address: { address: POD_IP, port_value: portOf('sni') } }, trellis_tls: true });
    expect(byName.get('plain')).toMatchObject({ trellis_tls: false });
    expect(await (await fetch(`http://${admin.address}:${admin.port}/listeners`)).text()).toContain(`sni::${POD_IP}:${portOf('sni')}\n`);
  });
});

describe('compiling TLS listeners', () => {
  const compile = (l: EnvoyJson) => compileConfig(snapshot({ listeners: [l] }));

  test('a bad certificate, a plaintext chain next to TLS, duplicate SNI and unknown listener filters are refused (NACK)', () => {
    const bad = { cert: shop.cert, key: apps.key };
    expect(() => compile(tlsListener('x', [tlsChain('c', 'r', bad)]))).toThrow(ConfigRejected);
    const plainChain = { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm('r') }] };
    expect(() => compile(tlsListener('x', [tlsChain('c', 'r', shop), plainChain]))).toThrow(/plaintext and TLS/);
    expect(() => compile(tlsListener('x', [tlsChain('c', 'r', shop, ['a.com']), tlsChain('d', 'r', shop, ['a.com'])]))).toThrow(/same matching rules/);
    const twoPlain = { ...listener('x', 0, 'r'), filter_chains: [plainChain, plainChain] };
    expect(() => compile(twoPlain)).toThrow(/only when they terminate TLS/);
    const inspector = { ...listener('x', 0, 'r'), listener_filters: [{ name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }] };
    expect(() => compile(inspector)).not.toThrow();
  });

  test('certificates from files are read at compile time; an unreadable file is refused', () => {
    const files = pki.files(shop, 'file-shop');
    const fromFiles = tlsChain('c', 'r', shop);
    fromFiles.transport_socket.typed_config.common_tls_context.tls_certificates = [{ certificate_chain: { filename: files.cert }, private_key: { filename: files.key } }];
    const cfg = compile(tlsListener('x', [fromFiles]));
    expect(cfg.listeners.get('x')!.tls!.chains[0]!.tls.serverOptions.cert).toBe(shop.cert);
    fromFiles.transport_socket.typed_config.common_tls_context.tls_certificates[0].private_key = { filename: '/nonexistent/key.pem' };
    expect(() => compile(tlsListener('x', [fromFiles]))).toThrow(/cannot read/);
  });
});
