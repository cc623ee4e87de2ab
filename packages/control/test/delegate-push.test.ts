import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonToStruct, type DiscoveryResponse, type EnvoyJson, type Node } from '@trellis/envoy-api';
import { ControlPlane } from '@trellis/control';
import { AdsClient, decodeResources } from './helpers/ads-client.js';

// Delegation through the whole control plane: a root VirtualService in one file, its delegate in another
// namespace and file; editing only the delegate's file pushes new merged routes over a real ADS stream.
// Loopback range of this test: 127.0.160.0/24.

const HOST = '127.0.160.1';

const MESH = `
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: default }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }, { name: v3, labels: { version: v3 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - name: api
    match: [{ uri: { prefix: /api } }]
    delegate: { name: reviews-api, namespace: team }
    timeout: 3s
  - name: rest
    route: [{ destination: { host: reviews, subset: v1 } }]
`;

const delegate = (prefix: string, subset: string, extra = '') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews-api, namespace: team }
spec:
${extra}
  http:
  - name: canary
    match: [{ uri: { prefix: ${prefix} } }]
    route: [{ destination: { host: reviews.default.svc.cluster.local, subset: ${subset} } }]
    timeout: 1s
  - name: stable
    route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v1 } }]
`;

function sidecarNode(pod: string, ip: string): Node {
  return {
    id: `sidecar~${ip}~${pod}.default~default.svc.cluster.local`,
    cluster: 'test',
    metadata: jsonToStruct({
      NAMESPACE: 'default', NAME: pod, LABELS: { app: 'productpage' }, INSTANCE_IPS: ip, WORKLOAD_NAME: 'productpage',
      POD_PORTS: JSON.stringify([{ name: 'http', containerPort: 9080, protocol: 'TCP' }]),
    }),
  };
}

interface RouteSummary {
  name: string;
  prefix: string;
  cluster: string;
  timeout: number;
}

/** The outbound routes of reviews:9080, as name / prefix / cluster / timeout seconds. */
function reviewsRoutes(res: DiscoveryResponse): RouteSummary[] {
  const [table] = decodeResources(res) as { virtual_hosts: EnvoyJson[] }[];
  const vhost = table!.virtual_hosts.find((v) => (v.domains as string[]).includes('reviews:9080')) as { routes: any[] };
  return vhost.routes.map((r) => ({ name: r.name, prefix: r.match.prefix, cluster: r.route.cluster, timeout: Number(r.route.timeout?.seconds ?? 0) }));
}

const SUBSET = (s: string) => `outbound|9080|${s}|reviews.default.svc.cluster.local`;

describe('ControlPlane: delegate VirtualServices', () => {
  let dir: string;
  let plane: ControlPlane;
  let client: AdsClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-delegate-'));
    await writeFile(join(dir, 'mesh.yaml'), MESH);
    await writeFile(join(dir, 'team-delegate.yaml'), delegate('/api/v2', 'v2'));
    plane = await ControlPlane.start({ configDir: dir, xdsHost: HOST, xdsPort: 0, debugHost: HOST, debugPort: 0, apiHost: HOST, apiPort: 0, debounceMs: 30 });
    client = AdsClient.connect(plane.xdsPort, sidecarNode('productpage-0', '127.0.160.5'), HOST);
  });

  afterAll(async () => {
    client?.close();
    await plane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function pushed(previous: DiscoveryResponse): Promise<DiscoveryResponse> {
    const res = await client.next(3000);
    expect(res.version_info).not.toBe(previous.version_info);
    client.ack(res, ['virtualOutbound']);
    return res;
  }

  test('merged routes reach the proxy, and edits to the delegate file alone are pushed', async () => {
    client.subscribe('route', ['virtualOutbound']);
    const first = await client.next(3000);
    client.ack(first, ['virtualOutbound']);
    expect(reviewsRoutes(first)).toEqual([
      { name: 'api-canary', prefix: '/api/v2', cluster: SUBSET('v2'), timeout: 1 },
      // The delegate route without a timeout of its own takes the root route's.
      { name: 'api-stable', prefix: '/api', cluster: SUBSET('v1'), timeout: 3 },
      { name: 'rest', prefix: '/', cluster: SUBSET('v1'), timeout: 0 },
    ]);

    const start = performance.now();
    await writeFile(join(dir, 'team-delegate.yaml'), delegate('/api/v3', 'v3'));
    const second = await pushed(first);
    expect(performance.now() - start).toBeLessThan(1500);
    expect(reviewsRoutes(second)[0]).toEqual({ name: 'api-canary', prefix: '/api/v3', cluster: SUBSET('v3'), timeout: 1 });

    // Hidden from the root's namespace: the delegating route goes away, and analysis says why.
    await writeFile(join(dir, 'team-delegate.yaml'), delegate('/api/v3', 'v3', '  exportTo: ["."]'));
    const third = await pushed(second);
    expect(reviewsRoutes(third).map((r) => r.name)).toEqual(['rest']);
    expect(plane.source.current().issues.map((i) => i.message)).toContain(
      'delegate VirtualService "team/reviews-api" is not exported to namespace "default"; the route is dropped',
    );
  });
});
