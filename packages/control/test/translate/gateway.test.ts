import { describe, expect, test } from 'vitest';
import { MeshConfig } from '../../src/model/mesh-config.js';
import { parseConfigText } from '../../src/model/parse.js';
import { conformanceFile, localPods } from '../registry/config-helpers.js';
import { gen, input, proxy, vhost, vhosts } from './helpers.js';

// The ingress gateway as Istio's default profile runs it: a router in istio-system labelled istio=ingressgateway.
const gatewayProxy = (labels: Record<string, string> = { istio: 'ingressgateway', app: 'istio-ingressgateway' }) =>
  proxy({
    id: 'router~127.0.190.9~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local',
    type: 'router',
    namespace: 'istio-system',
    podName: 'istio-ingressgateway-0',
    workloadName: 'istio-ingressgateway',
    labels,
    ips: ['127.0.190.9'],
    ports: [],
  });

/** Config through the real parser (validation included): the test fails if any document is rejected. */
function parsed(...texts: string[]): MeshConfig {
  const objects = texts.flatMap((t, i) => {
    const r = parseConfigText(t, `doc${i}.yaml`);
    expect(r.issues.filter((x) => x.severity === 'error')).toEqual([]);
    return r.objects;
  });
  return new MeshConfig(objects);
}

const bookinfoYaml = () => conformanceFile('istio-bookinfo/bookinfo.yaml');
const gatewayYaml = () => conformanceFile('istio-bookinfo/bookinfo-gateway.yaml');
const PRODUCTPAGE = 'outbound|9080||productpage.default.svc.cluster.local';

function gatewayInput(cfg: MeshConfig, labels?: Record<string, string>) {
  return input(cfg, localPods(cfg), gatewayProxy(labels));
}

describe('Bookinfo through the ingress gateway (bookinfo-gateway.yaml)', () => {
  const cfg = parsed(bookinfoYaml(), gatewayYaml());
  const i = gatewayInput(cfg);
  const listeners = gen(i, 'listener');
  const routes = gen(i, 'route');

  test('one listener per server port, 0.0.0.0:8080, HCM with RDS http.8080; no capture listeners', () => {
    expect([...listeners.keys()]).toEqual(['0.0.0.0_8080']);
    const l = listeners.get('0.0.0.0_8080')!;
    expect(l.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 8080 } });
    expect(l.filter_chains).toHaveLength(1);
    expect(l.filter_chains[0].transport_socket).toBeUndefined();
    const hcm = l.filter_chains[0].filters[0].typed_config;
    expect(hcm.rds.route_config_name).toBe('http.8080');
    expect(hcm.strip_any_host_port).toBe(true);
    expect(hcm.http_filters.at(-1).name).toBe('envoy.filters.http.router');
  });

  test('route http.8080: the bookinfo VirtualService on host *, each match its own route to productpage:9080', () => {
    expect([...routes.keys()]).toEqual(['http.8080']);
    const vh = vhost(routes.get('http.8080'), '*:8080');
    expect(vh.domains).toEqual(['*']);
    expect(vh.routes.map((r: any) => r.match)).toEqual([
      { path: '/productpage' },
      { prefix: '/static' },
      { path: '/login' },
      { path: '/logout' },
      { prefix: '/api/v1/products' },
    ]);
    for (const r of vh.routes) expect(r.route.cluster).toBe(PRODUCTPAGE);
    expect(vh.require_tls).toBeUndefined();
  });

  test('the gateway gets the outbound clusters it routes to, EDS-backed', () => {
    const clusters = gen(i, 'cluster');
    expect(clusters.get(PRODUCTPAGE)?.type).toBe('EDS');
    expect([...clusters.keys()].some((n) => n.startsWith('inbound|'))).toBe(false);
    expect(gen(i, 'endpoint', [PRODUCTPAGE]).get(PRODUCTPAGE)?.endpoints[0].lb_endpoints).toHaveLength(1);
  });

  test('named subscriptions: only what exists', () => {
    expect([...gen(i, 'route', ['http.8080', 'http.9999']).keys()]).toEqual(['http.8080']);
    expect([...gen(i, 'listener', ['0.0.0.0_8080', 'virtualOutbound']).keys()]).toEqual(['0.0.0.0_8080']);
  });

  test('the gateway-bound VirtualService does not reach sidecars (its gateways do not include mesh)', () => {
    const sidecar = input(cfg, localPods(cfg));
    const out = gen(sidecar, 'route').get('virtualOutbound');
    const pp = vhost(out, 'productpage.default.svc.cluster.local:9080');
    expect(pp.routes.map((r: any) => r.name)).toEqual(['default']);
  });

  test('a gateway whose labels the selector does not match gets nothing', () => {
    const other = gatewayInput(cfg, { istio: 'egressgateway' });
    expect(gen(other, 'listener').size).toBe(0);
    expect(gen(other, 'route').size).toBe(0);
  });
});

const BACKEND = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec: { selector: { app: api }, ports: [{ name: http, port: 8080 }] }
`;

const vs = (name: string, ns: string, hosts: string[], gateways: string[] | undefined, dest: string, extra = '') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: ${JSON.stringify(hosts)}
  ${gateways ? `gateways: ${JSON.stringify(gateways)}` : ''}
  http:
  ${extra}
  - route: [{ destination: { host: ${dest} } }]
`;

describe('hosts, namespaces and gateway references', () => {
  const gw = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["shop.example.com", "*.apps.example.com", "./own.example.com", "other/other.example.com"]
`;

  function routeConfig(...docs: string[]) {
    const i = gatewayInput(parsed(BACKEND, gw, ...docs));
    return gen(i, 'route').get('http.80');
  }

  test('a VirtualService on * serves exactly the server hosts its namespace may use; others get no virtual host (404)', () => {
    const rc = routeConfig(vs('all', 'shop', ['*'], ['public'], 'web'));
    expect(vhosts(rc).map((v) => v.domains[0]).sort()).toEqual(['*.apps.example.com', 'own.example.com', 'shop.example.com']);
    for (const v of vhosts(rc)) expect(v.routes[0].route.cluster).toBe('outbound|80||web.shop.svc.cluster.local');
  });

  test('a VirtualService host narrower than a wildcard server host keeps its own name; unrelated hosts are dropped', () => {
    const rc = routeConfig(vs('api', 'shop', ['api.apps.example.com', 'nope.example.net'], ['shop/public'], 'api'));
    expect(vhosts(rc).map((v) => [v.name, v.domains])).toEqual([['api.apps.example.com:80', ['api.apps.example.com']]]);
    expect(vhosts(rc)[0].routes[0].route.cluster).toBe('outbound|8080||api.shop.svc.cluster.local');
  });

  test('ns/host admits only VirtualServices of that namespace; ./host only the Gateway namespace', () => {
    const rc = routeConfig(vs('o', 'other', ['*'], ['shop/public'], 'web.shop.svc.cluster.local'));
    expect(vhosts(rc).map((v) => v.domains[0]).sort()).toEqual(['*.apps.example.com', 'other.example.com', 'shop.example.com']);
  });

  test('gateway names: bare names resolve in the VirtualService namespace; mesh-only and unbound VirtualServices stay off', () => {
    const rc = routeConfig(
      vs('bare-other-ns', 'other', ['*'], ['public'], 'web.shop.svc.cluster.local'), // other/public: no such gateway
      vs('mesh', 'shop', ['shop.example.com'], ['mesh'], 'api'),
      vs('none', 'shop', ['shop.example.com'], undefined, 'api'),
    );
    expect(vhosts(rc)).toEqual([]);
  });

  test('VirtualServices sharing a host merge their routes in order; match.gateways picks routes per gateway', () => {
    const rc = routeConfig(
      vs('first', 'shop', ['shop.example.com'], ['public', 'mesh'], 'api', `- match: [{ uri: { prefix: /mesh-only }, gateways: [mesh] }]
    route: [{ destination: { host: web } }]
  - match: [{ uri: { prefix: /api }, gateways: [shop/public] }]
    route: [{ destination: { host: api } }]`),
      vs('second', 'shop', ['shop.example.com'], ['public'], 'web'),
    );
    const vh = vhost(rc, 'shop.example.com:80');
    expect(vh.routes.map((r: any) => [r.match.prefix, r.route.cluster])).toEqual([
      ['/api', 'outbound|8080||api.shop.svc.cluster.local'],
      ['/', 'outbound|8080||api.shop.svc.cluster.local'],
      ['/', 'outbound|80||web.shop.svc.cluster.local'],
    ]);
  });
});

// A throwaway self-signed pair: only its text matters here (the proxy tests handshake with a real one).
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('HTTPS servers', () => {
  const gw = (tls: string, hosts = '["shop.example.com"]', extraServers = '') => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ${hosts}
    tls: ${tls}
${extraServers}
`;
  const secret = (ns: string) => `
apiVersion: v1
kind: Secret
metadata: { name: shop-cert, namespace: ${ns} }
type: kubernetes.io/tls
data: { tls.crt: ${b64(CERT)}, tls.key: ${b64(KEY)} }
`;

  test('SIMPLE with credentialName: the Secret (gateway namespace) becomes an inline DownstreamTlsContext, SNI-matched', () => {
    const cfg = parsed(BACKEND, gw('{ mode: SIMPLE, credentialName: shop-cert }'), secret('istio-system'), vs('s', 'shop', ['*'], ['public'], 'web'));
    const i = gatewayInput(cfg);
    const l = gen(i, 'listener').get('0.0.0.0_443')!;
    expect(l.listener_filters.map((f: any) => f.name)).toEqual(['envoy.filters.listener.tls_inspector']);
    expect(l.filter_chains).toHaveLength(1);
    const chain = l.filter_chains[0];
    expect(chain.filter_chain_match).toEqual({ server_names: ['shop.example.com'] });
    expect(chain.transport_socket.name).toBe('envoy.transport_sockets.tls');
    const ctx = chain.transport_socket.typed_config;
    expect(ctx['@type']).toBe('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
    expect(ctx.common_tls_context.tls_certificates).toEqual([{ certificate_chain: { inline_string: CERT }, private_key: { inline_string: KEY } }]);
    expect(ctx.common_tls_context.alpn_protocols).toEqual(['h2', 'http/1.1']);
    expect(ctx.common_tls_context.tls_params.tls_minimum_protocol_version).toBe('TLSv1_2');
    const routeName = 'https.443.https.public.shop';
    expect(chain.filters[0].typed_config.rds.route_config_name).toBe(routeName);
    const rc = gen(i, 'route').get(routeName);
    expect(vhost(rc, 'shop.example.com:443').routes[0].route.cluster).toBe('outbound|80||web.shop.svc.cluster.local');
  });

  test('a Secret outside the gateway namespace is not used: no listener rather than one without TLS', () => {
    const cfg = parsed(BACKEND, gw('{ mode: SIMPLE, credentialName: shop-cert }'), secret('shop'), vs('s', 'shop', ['*'], ['public'], 'web'));
    expect(gen(gatewayInput(cfg), 'listener').size).toBe(0);
  });

  test('serverCertificate/privateKey files are passed by name; hosts * make the default (no SNI) chain', () => {
    const cfg = parsed(BACKEND, gw('{ mode: SIMPLE, serverCertificate: /etc/certs/a.pem, privateKey: /etc/certs/a.key, minProtocolVersion: TLSV1_3 }', '["*"]'));
    const chain = gen(gatewayInput(cfg), 'listener').get('0.0.0.0_443')!.filter_chains[0];
    expect(chain.filter_chain_match).toBeUndefined();
    const common = chain.transport_socket.typed_config.common_tls_context;
    expect(common.tls_certificates).toEqual([{ certificate_chain: { filename: '/etc/certs/a.pem' }, private_key: { filename: '/etc/certs/a.key' } }]);
    expect(common.tls_params.tls_minimum_protocol_version).toBe('TLSv1_3');
  });

  test('httpsRedirect on the HTTP server: its virtual hosts require TLS (301 to https)', () => {
    const http = `  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["shop.example.com"]
    tls: { httpsRedirect: true }`;
    const cfg = parsed(BACKEND, gw('{ mode: SIMPLE, credentialName: shop-cert }', '["shop.example.com"]', http), secret('istio-system'), vs('s', 'shop', ['*'], ['public'], 'web'));
    const i = gatewayInput(cfg);
    expect([...gen(i, 'listener').keys()].sort()).toEqual(['0.0.0.0_443', '0.0.0.0_80']);
    expect(vhost(gen(i, 'route').get('http.80'), 'shop.example.com:80').require_tls).toBe('ALL');
  });
});

describe('Secret as a kind', () => {
  test('kubernetes.io/tls Secrets parse with their top-level data; bad base64 and missing keys are errors', () => {
    const ok = parseConfigText(`apiVersion: v1\nkind: Secret\nmetadata: { name: c, namespace: istio-system }\ntype: kubernetes.io/tls\ndata: { tls.crt: ${b64(CERT)}, tls.key: ${b64(KEY)} }\n`, 'a.yaml');
    expect(ok.issues).toEqual([]);
    expect(ok.objects[0]).toMatchObject({ kind: 'Secret', spec: { type: 'kubernetes.io/tls', data: { 'tls.crt': b64(CERT) } } });
    const bad = parseConfigText('apiVersion: v1\nkind: Secret\nmetadata: { name: c }\ntype: kubernetes.io/tls\ndata: { tls.crt: "not base64!" }\n', 'b.yaml');
    expect(bad.objects).toEqual([]);
    expect(bad.issues.map((x) => x.message)).toEqual(['data values must be base64', 'a kubernetes.io/tls Secret requires tls.key']);
  });
});

describe("the gateway's own Service maps Gateway ports to target ports (Istio's MergeGateways)", () => {
  const service = `
apiVersion: v1
kind: Service
metadata: { name: istio-ingressgateway, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  ports: [{ name: http2, port: 80, targetPort: 8080 }, { name: https, port: 443, targetPort: 8443 }]
`;
  const gw = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 9090, name: other, protocol: HTTP }
    hosts: ["*"]
`;

  test('port 80 is served on 8080 (route http.8080, virtual hosts still named for 80); an unmapped port as written', () => {
    const i = gatewayInput(parsed(BACKEND, service, gw, vs('s', 'shop', ['*'], ['public'], 'web')));
    const listeners = gen(i, 'listener');
    expect([...listeners.keys()].sort()).toEqual(['0.0.0.0_8080', '0.0.0.0_9090']);
    expect(listeners.get('0.0.0.0_8080')!.filter_chains[0].filters[0].typed_config.rds.route_config_name).toBe('http.8080');
    const routes = gen(i, 'route');
    expect(vhost(routes.get('http.8080'), '*:80').routes[0].route.cluster).toBe('outbound|80||web.shop.svc.cluster.local');
    expect(vhost(routes.get('http.9090'), '*:9090')).toBeDefined();
  });

  test('a Service in another namespace, or not selecting the gateway, maps nothing', () => {
    const elsewhere = service.replace('namespace: istio-system', 'namespace: shop');
    const i = gatewayInput(parsed(BACKEND, elsewhere, gw));
    expect([...gen(i, 'listener').keys()].sort()).toEqual(['0.0.0.0_80', '0.0.0.0_9090']);
  });
});

describe('analysis', () => {
  test('servers the Trellis gateway does not serve are reported as warnings, naming the server', async () => {
    const { analyzeObjects } = await import('../../src/model/analyze.js');
    const text = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mixed, namespace: shop }
spec:
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 31400, name: tcp, protocol: TCP }
    hosts: ["*"]
  - port: { number: 443, name: tls, protocol: HTTPS }
    hosts: ["*"]
    tls: { mode: PASSTHROUGH }
  - port: { number: 8443, name: multi, protocol: HTTPS }
    hosts: ["*"]
    tls: { mode: SIMPLE, credentialNames: [a, b] }
`;
    const issues = analyzeObjects(parseConfigText(text, 'g.yaml').objects);
    expect(issues.map((x) => [x.severity, x.path, x.message.split(' servers')[0]])).toEqual([
      ['warning', 'spec.servers[1].port.protocol', 'TCP'],
      ['warning', 'spec.servers[2].port.protocol', 'HTTPS (tls.mode PASSTHROUGH)'],
      ['warning', 'spec.servers[3].tls', 'credentialNames and tlsCertificates are not supported by the Trellis gateway (use credentialName, or serverCertificate and privateKey); this server gets no listener'],
    ]);
  });

  test('a credentialName with no Secret in the gateway namespace is reported (istio-system when the folder has no gateway pods)', async () => {
    const { analyzeObjects } = await import('../../src/model/analyze.js');
    const gw = (selector: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: secure, namespace: shop }
spec:
  selector: ${selector}
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ["*"]
    tls: { mode: SIMPLE, credentialName: shop-cert }
`;
    const secret = (ns: string) => `apiVersion: v1\nkind: Secret\nmetadata: { name: shop-cert, namespace: ${ns} }\ntype: kubernetes.io/tls\ndata: { tls.crt: ${b64(CERT)}, tls.key: ${b64(KEY)} }\n`;
    const own = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: gw, namespace: edge }\nspec:\n  selector: { matchLabels: { gw: mine } }\n  template:\n    metadata: { labels: { gw: mine } }\n    spec: { containers: [{ name: p, command: [x] }] }\n';
    const analyze = (...texts: string[]) => analyzeObjects(texts.flatMap((t, i) => parseConfigText(t, `${i}.yaml`).objects)).map((x) => x.message);
    expect(analyze(gw('{ istio: ingressgateway }'), secret('shop'))).toEqual([
      'referenced credentialName not found: Secret "shop-cert" in istio-system (the gateway\'s namespace); this server gets no listener until it exists',
    ]);
    expect(analyze(gw('{ istio: ingressgateway }'), secret('istio-system'))).toEqual([]);
    expect(analyze(gw('{ gw: mine }'), own, secret('istio-system'))).toEqual([
      'referenced credentialName not found: Secret "shop-cert" in edge (the gateway\'s namespace); this server gets no listener until it exists',
    ]);
    expect(analyze(gw('{ gw: mine }'), own, secret('edge'))).toEqual([]);
  });
});
