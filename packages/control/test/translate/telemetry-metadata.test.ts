import { describe, expect, test } from 'vitest';
import { structToJson } from '@trellis/envoy-api';
import { canonicalRevision, canonicalService } from '../../src/translate/telemetry-metadata.js';
import { config, obj, workload } from '../registry/config-helpers.js';
import { gen, input, must, proxy } from './helpers.js';

// Istio's telemetry metadata on clusters (`istio.services`) and endpoints (`istio.workload`), which the
// sidecar's standard metrics read to name the destination of outbound requests.
const FQDN = 'reviews.shop.svc.cluster.local';
const svc = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, targetPort: 9081 }] }, { namespace: 'shop' });
const alias = obj('Service', 'reviews-alias', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 80, targetPort: 9081 }] }, { namespace: 'shop' });
const other = obj('Service', 'ratings', { selector: { app: 'ratings' }, ports: [{ name: 'http', port: 9080 }] }, { namespace: 'shop' });
const dnsEntry = obj('ServiceEntry', 'ext', { hosts: ['api.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' });
const v2 = workload('reviews-v2-7d9c', '127.0.180.5', { app: 'reviews', version: 'v2' }, { namespace: 'shop', workloadName: 'reviews-v2', sidecar: { inboundPort: 15006 } });
const canon = workload('reviews-canary-0', '127.0.180.6', { app: 'reviews', 'service.istio.io/canonical-name': 'reviews-canon', 'service.istio.io/canonical-revision': 'c1' }, { namespace: 'shop', workloadName: 'reviews-canary' });
const istioMd = (x: any) => structToJson(x.metadata.filter_metadata.istio);

describe('telemetry metadata', () => {
  test('every endpoint of a workload carries istio.workload = name;namespace;canonical service;revision;cluster', () => {
    const eds = gen(input(config(svc), [v2, canon]), 'endpoint');
    const eps = must(eds.get(`outbound|9080||${FQDN}`), 'cla').endpoints.flatMap((l: any) => l.lb_endpoints);
    const byIp = new Map(eps.map((e: any) => [e.endpoint.address.socket_address.address, e]));
    expect(istioMd(byIp.get('127.0.180.5'))).toEqual({ workload: 'reviews-v2;shop;reviews;v2;Kubernetes' });
    expect(istioMd(byIp.get('127.0.180.6'))).toEqual({ workload: 'reviews-canary;shop;reviews-canon;c1;Kubernetes' });
    // The sidecar'd one keeps its target port next to it.
    expect(structToJson((byIp.get('127.0.180.5') as any).metadata.filter_metadata.trellis)).toEqual({ target_port: 9081 });
    expect((byIp.get('127.0.180.6') as any).metadata.filter_metadata.trellis).toBeUndefined();
  });

  test('a DNS host with no workload behind it is not named as one', () => {
    const clusters = gen(input(config(dnsEntry), []), 'cluster');
    const c = must(clusters.get('outbound|80||api.example.com'), 'dns cluster');
    expect(c.load_assignment.endpoints[0].lb_endpoints[0].metadata).toBeUndefined();
    expect(istioMd(c)).toEqual({ services: [{ host: 'api.example.com', name: 'api.example.com', namespace: 'default' }] });
  });

  test('outbound clusters (default and subsets) name their service in istio.services', () => {
    const rule = obj('DestinationRule', 'reviews', { host: FQDN, subsets: [{ name: 'v2', labels: { version: 'v2' } }] }, { namespace: 'shop' });
    const clusters = gen(input(config(svc, rule), [v2]), 'cluster');
    const want = { services: [{ host: FQDN, name: 'reviews', namespace: 'shop' }] };
    expect(istioMd(must(clusters.get(`outbound|9080||${FQDN}`), 'default'))).toEqual(want);
    expect(istioMd(must(clusters.get(`outbound|9080|v2|${FQDN}`), 'subset'))).toEqual(want);
  });

  test('inbound clusters name the services of the proxy namespace that select it on that port', () => {
    const p = proxy({ namespace: 'shop', labels: { app: 'reviews', version: 'v2' }, ports: [{ name: 'http', containerPort: 9081 }, { containerPort: 7000 }] });
    const clusters = gen(input(config(svc, alias, other), [], p), 'cluster');
    expect(istioMd(must(clusters.get('inbound|9081||'), 'inbound'))).toEqual({
      services: [
        { host: FQDN, name: 'reviews', namespace: 'shop' },
        { host: 'reviews-alias.shop.svc.cluster.local', name: 'reviews-alias', namespace: 'shop' },
      ],
    });
    expect(istioMd(must(clusters.get('inbound|7000||'), 'inbound 7000'))).toEqual({ services: [] });
  });

  test("canonical names follow Istio's label order", () => {
    expect(canonicalService({ 'app.kubernetes.io/name': 'a', app: 'b' }, 'w')).toBe('a');
    expect(canonicalService({ app: 'b' }, 'w')).toBe('b');
    expect(canonicalService({}, 'w')).toBe('w');
    expect(canonicalRevision({ 'app.kubernetes.io/version': '2', version: 'v1' })).toBe('2');
    expect(canonicalRevision({ version: 'v1' })).toBe('v1');
    expect(canonicalRevision({})).toBe('latest');
  });
});
