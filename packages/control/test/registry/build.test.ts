import { describe, expect, test } from 'vitest';
import { buildRegistry } from '../../src/registry/build.js';
import { bookinfoConfig, config, localPods, obj, workload } from './config-helpers.js';

const reviews = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] });
const multi = obj('Service', 'shop', {
  selector: { app: 'shop' },
  ports: [
    { name: 'http-web', port: 80, targetPort: 'web' },
    { name: 'grpc-api', port: 9090, targetPort: 9091 },
    { name: 'metrics', port: 15090, appProtocol: 'http' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
});

describe('services', () => {
  test('Kubernetes Services become FQDN services with protocols and targetPorts', () => {
    const reg = buildRegistry(config(reviews, multi), []);
    const shop = reg.lookup('shop.default.svc.cluster.local')!;
    expect(shop.hostname).toBe('shop.default.svc.cluster.local');
    expect(shop.resolution).toBe('STATIC');
    expect(shop.location).toBe('MESH_INTERNAL');
    expect(shop.origin).toBe('Service/default/shop');
    expect(shop.ports).toEqual([
      { name: 'http-web', port: 80, protocol: 'HTTP', targetPort: 'web' },
      { name: 'grpc-api', port: 9090, protocol: 'GRPC', targetPort: 9091 },
      { name: 'metrics', port: 15090, protocol: 'HTTP', targetPort: 15090 },
    ]);
  });

  test('ServiceEntries give one service per host, with resolution and location', () => {
    const se = obj('ServiceEntry', 'external', {
      hosts: ['api.example.com', 'www.example.com'],
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      resolution: 'DNS',
    }, { namespace: 'egress' });
    const reg = buildRegistry(config(se), []);
    expect(reg.services.map((s) => s.hostname)).toEqual(['api.example.com', 'www.example.com']);
    const api = reg.lookup('api.example.com')!;
    expect(api).toMatchObject({ namespace: 'egress', resolution: 'DNS', location: 'MESH_EXTERNAL', origin: 'ServiceEntry/egress/external' });
    expect(api.ports).toEqual([{ name: 'https', port: 443, protocol: 'HTTPS', targetPort: 443 }]);
    // Defaults when unset: resolution NONE, MESH_EXTERNAL.
    const bare = buildRegistry(config(obj('ServiceEntry', 'x', { hosts: ['x.internal'], ports: [{ number: 80, name: 'http' }] })), []);
    expect(bare.lookup('x.internal')).toMatchObject({ resolution: 'NONE', location: 'MESH_EXTERNAL' });
  });
});

describe('lookup', () => {
  const other = obj('Service', 'reviews', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] }, { namespace: 'prod' });
  const wildcard = obj('ServiceEntry', 'wild', { hosts: ['*.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] });
  const specific = obj('ServiceEntry', 'api', { hosts: ['*.api.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] });
  const reg = buildRegistry(config(reviews, other, wildcard, specific), []);

  test.each([
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews', 'prod', 'reviews.prod.svc.cluster.local'],
    ['reviews:9080', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews.prod', 'default', 'reviews.prod.svc.cluster.local'],
    ['reviews.prod:9080', 'default', 'reviews.prod.svc.cluster.local'],
    ['reviews.default.svc', 'prod', 'reviews.default.svc.cluster.local'],
    ['reviews.prod.svc:9080', 'default', 'reviews.prod.svc.cluster.local'],
    ['reviews.default.svc.cluster.local', 'prod', 'reviews.default.svc.cluster.local'],
    ['reviews.default.svc.cluster.local:9080', 'prod', 'reviews.default.svc.cluster.local'],
    ['REVIEWS.default.svc.cluster.local', 'prod', 'reviews.default.svc.cluster.local'],
    ['foo.example.com', 'default', '*.example.com'],
    ['a.b.example.com:80', 'default', '*.example.com'],
    ['v1.api.example.com', 'default', '*.api.example.com'],
  ])('%s from %s -> %s', (host, ns, expected) => {
    expect(reg.lookup(host, ns)?.hostname).toBe(expected);
  });

  test.each([['ratings'], ['reviews.staging'], ['example.com'], [''], ['reviews.default.svc.cluster']])('%j is unknown', (host) => {
    expect(reg.lookup(host, 'default')).toBeUndefined();
  });
});

describe('endpoints', () => {
  test('pods matching the selector in the service namespace; sidecar fronts the app port', () => {
    const pods = [
      workload('reviews-v1', '127.0.1.2', { app: 'reviews', version: 'v1' }, { sidecar: { inboundPort: 15006 } }),
      workload('reviews-v2', '127.0.1.3', { app: 'reviews', version: 'v2' }),
      workload('ratings', '127.0.1.4', { app: 'ratings' }),
      workload('reviews-prod', '127.0.1.5', { app: 'reviews' }, { namespace: 'prod', uid: 'local/prod/reviews' }),
    ];
    const reg = buildRegistry(config(reviews), pods);
    const svc = reg.lookup('reviews')!;
    const eps = reg.endpoints(svc, 9080);
    expect(eps.map((e) => [e.address, e.port, e.targetPort])).toEqual([
      ['127.0.1.2', 15006, 9080],
      ['127.0.1.3', 9080, 9080],
    ]);
    expect(reg.endpoints(svc, 9080, { version: 'v2' }).map((e) => e.address)).toEqual(['127.0.1.3']);
    expect(reg.endpoints(svc, 9080, { version: 'v3' })).toEqual([]);
    expect(reg.endpoints(svc, 1234)).toEqual([]);
  });

  test('a pod that is not Ready gives no endpoint, and local mode outranks the same pod registered over xDS', () => {
    const fromXds = workload('reviews-v1', '127.0.1.2', { app: 'reviews' }, { uid: 'xds/sidecar~127.0.1.2~reviews-v1.default', source: 'xds', sidecar: { inboundPort: 15006 } });
    const starting = workload('reviews-v1', '127.0.1.2', { app: 'reviews' }, { sidecar: { inboundPort: 15006 }, ready: false });
    const svc = (reg: ReturnType<typeof buildRegistry>) => reg.endpoints(reg.lookup('reviews')!, 9080);
    expect(svc(buildRegistry(config(reviews), [fromXds]))).toHaveLength(1);
    expect(svc(buildRegistry(config(reviews), [fromXds, starting]))).toEqual([]);
    const ready = { ...starting, ready: true };
    expect(svc(buildRegistry(config(reviews), [fromXds, ready])).map((e) => [e.workload.uid, e.port])).toEqual([['local/default/reviews-v1', 15006]]);
  });

  test('named targetPort resolves through container ports; a pod without that port gets no endpoint', () => {
    const pods = [
      workload('shop-a', '127.0.2.1', { app: 'shop' }, { ports: { web: 8081 } }),
      workload('shop-b', '127.0.2.2', { app: 'shop' }, { ports: { other: 8082 } }),
    ];
    const reg = buildRegistry(config(multi), pods);
    const shop = reg.lookup('shop')!;
    expect(reg.endpoints(shop, 80).map((e) => [e.address, e.port])).toEqual([['127.0.2.1', 8081]]);
    expect(reg.endpoints(shop, 9090).map((e) => [e.address, e.port])).toEqual([['127.0.2.1', 9091], ['127.0.2.2', 9091]]);
  });

  test('WorkloadEntries: ports keyed by service port name override targetPort; weight and locality kept', () => {
    const svc = obj('Service', 'greeter', { selector: { app: 'greeter' }, ports: [{ name: 'grpc', port: 50051, targetPort: 6000 }] });
    const we1 = obj('WorkloadEntry', 'vm-1', { address: '10.0.0.1', labels: { app: 'greeter' }, ports: { grpc: 7001 }, weight: 3, locality: 'us-east/zone-a/rack-1' });
    const we2 = obj('WorkloadEntry', 'vm-2', { address: '10.0.0.2', labels: { app: 'greeter' } });
    const reg = buildRegistry(config(svc, we1, we2), []);
    const eps = reg.endpoints(reg.lookup('greeter')!, 50051);
    expect(eps.map((e) => [e.address, e.port, e.workload.weight, e.workload.locality])).toEqual([
      ['10.0.0.1', 7001, 3, 'us-east/zone-a/rack-1'],
      ['10.0.0.2', 6000, 1, ''],
    ]);
  });

  test('ServiceEntry: inline endpoints back only that entry; workloadSelector selects WorkloadEntries and pods', () => {
    const inline = obj('ServiceEntry', 'db', {
      hosts: ['db.internal'],
      ports: [{ number: 5432, name: 'tcp', protocol: 'TCP', targetPort: 6432 }],
      resolution: 'STATIC',
      endpoints: [{ address: '10.1.0.1' }, { address: '10.1.0.2', ports: { tcp: 7432 }, labels: { role: 'replica' } }],
    });
    const selecting = obj('ServiceEntry', 'vms', {
      hosts: ['vm.internal'],
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      resolution: 'STATIC',
      workloadSelector: { labels: { app: 'vm' } },
    });
    const we = obj('WorkloadEntry', 'vm-1', { address: '10.2.0.1', labels: { app: 'vm' } });
    const pod = workload('vm-pod', '127.0.3.1', { app: 'vm' });
    const reg = buildRegistry(config(inline, selecting, we), [pod]);
    const db = reg.lookup('db.internal')!;
    expect(reg.endpoints(db, 5432).map((e) => [e.address, e.port])).toEqual([['10.1.0.1', 6432], ['10.1.0.2', 7432]]);
    expect(reg.endpoints(db, 5432, { role: 'replica' }).map((e) => e.address)).toEqual(['10.1.0.2']);
    const vms = reg.lookup('vm.internal')!;
    expect(reg.endpoints(vms, 80).map((e) => e.address).sort()).toEqual(['10.2.0.1', '127.0.3.1']);
    expect(reg.workloads.find((w) => w.address === '10.1.0.1')?.onlyFor).toBe('ServiceEntry/default/db');
  });

  test('Pods with an IP from config are workloads; the xDS-connected pod replaces the configured one at the same address', () => {
    const pod = obj('Pod', 'reviews-abc', { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 9080 }] }] },
      { labels: { app: 'reviews' } }, { status: { podIP: '10.4.0.7', phase: 'Running' } });
    const pending = obj('Pod', 'reviews-def', { containers: [] }, { labels: { app: 'reviews' } }, { status: {} });
    const done = obj('Pod', 'reviews-ghi', { containers: [] }, { labels: { app: 'reviews' } }, { status: { podIP: '10.4.0.8', phase: 'Succeeded' } });
    const cfg = config(reviews, pod, pending, done);
    expect(buildRegistry(cfg, []).workloads.map((w) => [w.uid, w.address, w.ports])).toEqual([['Pod/default/reviews-abc', '10.4.0.7', { http: 9080 }]]);

    const live = workload('reviews-abc', '10.4.0.7', { app: 'reviews' }, { uid: 'xds/sidecar~10.4.0.7~reviews-abc.default~x', source: 'xds', sidecar: { inboundPort: 15006 } });
    const reg = buildRegistry(cfg, [live]);
    expect(reg.workloads.map((w) => w.uid)).toEqual([live.uid]);
    expect(reg.endpoints(reg.lookup('reviews')!, 9080).map((e) => [e.port, e.targetPort])).toEqual([[15006, 9080]]);
  });

  test('Bookinfo with local-mode pods: every service has its versions behind sidecars', () => {
    const cfg = bookinfoConfig('bookinfo.yaml');
    const reg = buildRegistry(cfg, localPods(cfg));
    expect(reg.services.map((s) => s.name)).toEqual(['details', 'ratings', 'reviews', 'productpage']);
    const eps = reg.endpoints(reg.lookup('reviews.default.svc.cluster.local')!, 9080);
    expect(eps.map((e) => e.workload.labels.version)).toEqual(['v1', 'v2', 'v3']);
    expect(eps.every((e) => e.port === 15006 && e.targetPort === 9080)).toBe(true);
  });

  test('the snapshot is immutable', () => {
    const reg = buildRegistry(config(reviews), []);
    expect(() => (reg.services as unknown[]).push({})).toThrow();
  });
});
