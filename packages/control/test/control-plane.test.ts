import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonToStruct, type DiscoveryResponse, type EnvoyJson, type Node } from '@trellis/envoy-api';
import { ControlPlane } from '@trellis/control';
import { AdsClient, decodeResources } from './helpers/ads-client.js';

// The whole control plane, folder to ADS stream: file edits are pushed, bad files are kept out, and
// sidecars register themselves as endpoints for as long as their stream lives.

const SERVICE = `
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
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

const vs = (w1: number, w2: number) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: ${w1} }
    - { destination: { host: reviews, subset: v2 }, weight: ${w2} }
`;

function sidecarNode(pod: string, ip: string, labels: Record<string, string>): Node {
  return {
    id: `sidecar~${ip}~${pod}.default~default.svc.cluster.local`,
    cluster: 'test',
    metadata: jsonToStruct({
      NAMESPACE: 'default', NAME: pod, LABELS: labels, INSTANCE_IPS: ip, WORKLOAD_NAME: pod.replace(/-\d+$/, ''),
      POD_PORTS: JSON.stringify([{ name: 'http', containerPort: 9080, protocol: 'TCP' }]),
    }),
  };
}

/** The weights the outbound route table gives reviews, by cluster name. */
function reviewsWeights(res: DiscoveryResponse): Record<string, number> {
  const [table] = decodeResources(res) as { virtual_hosts: EnvoyJson[] }[];
  const vhost = table.virtual_hosts.find((v) => (v.domains as string[]).includes('reviews:9080')) as { routes: EnvoyJson[] };
  const clusters = (vhost.routes[0].route as { weighted_clusters: { clusters: { name: string; weight: { value: number } }[] } })
    .weighted_clusters.clusters;
  return Object.fromEntries(clusters.map((c) => [c.name, c.weight.value]));
}

const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';

describe('ControlPlane', () => {
  let dir: string;
  let plane: ControlPlane;
  const clients: AdsClient[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-cp-'));
    await writeFile(join(dir, 'reviews.yaml'), SERVICE);
    await writeFile(join(dir, 'reviews-vs.yaml'), vs(80, 20));
    plane = await ControlPlane.start({ configDir: dir, xdsHost: '127.0.0.1', xdsPort: 0, debugHost: '127.0.0.1', debugPort: 0, apiHost: '127.0.0.1', apiPort: 0 });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await plane.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function subscribedRoutes(): Promise<{ client: AdsClient; first: DiscoveryResponse }> {
    const client = AdsClient.connect(plane.xdsPort, sidecarNode('productpage-0', '127.0.0.5', { app: 'productpage' }));
    clients.push(client);
    client.subscribe('route', ['virtualOutbound']);
    const first = await client.next();
    client.ack(first, ['virtualOutbound']);
    return { client, first };
  }

  test('a VirtualService edit reaches a connected proxy within 1 s', async () => {
    const { client, first } = await subscribedRoutes();
    expect(reviewsWeights(first)).toEqual({ [V1]: 80, [V2]: 20 });

    const start = performance.now();
    await writeFile(join(dir, 'reviews-vs.yaml'), vs(50, 50));
    const pushed = await client.next(3000);
    const elapsed = performance.now() - start;
    expect(reviewsWeights(pushed)).toEqual({ [V1]: 50, [V2]: 50 });
    expect(pushed.version_info).not.toBe(first.version_info);
    expect(elapsed).toBeLessThan(1000);
  });

  test('a bad edit is kept out: nothing is pushed, the old routes stay, and the error is visible', async () => {
    const { client } = await subscribedRoutes();
    await writeFile(join(dir, 'reviews-vs.yaml'), vs(-20, 120));
    await client.expectNothing(800);
    expect(reviewsWeights(await routesNow())).toEqual({ [V1]: 80, [V2]: 20 });

    const status = (await (await fetch(`http://127.0.0.1:${plane.debugPort}/debug/config_status`)).json()) as {
      files: { file: string; state: string; servingLastGood: boolean; issues: { message: string; path: string }[] }[];
      errors: number;
    };
    expect(status.errors).toBe(1);
    const file = status.files.find((f) => f.file.endsWith('reviews-vs.yaml'))!;
    expect(file).toMatchObject({ state: 'rejected', servingLastGood: true });
    expect(file.issues[0]).toMatchObject({ path: 'spec.http[0].route[0].weight', message: 'weight -20 < 0' });
    const metrics = await (await fetch(`http://127.0.0.1:${plane.debugPort}/metrics`)).text();
    expect(metrics).toMatch(/^trellis_config_errors 1$/m);

    // Fixing the file pushes the fix.
    await writeFile(join(dir, 'reviews-vs.yaml'), vs(10, 90));
    expect(reviewsWeights(await client.next(3000))).toEqual({ [V1]: 10, [V2]: 90 });
  });

  /** What a newly connecting proxy gets right now. */
  async function routesNow(): Promise<DiscoveryResponse> {
    const probe = AdsClient.connect(plane.xdsPort, sidecarNode('probe-0', '127.0.0.9', { app: 'probe' }));
    clients.push(probe);
    probe.subscribe('route', ['virtualOutbound']);
    return probe.next();
  }

  test('a sidecar registers its pod as an endpoint at its inbound port while its stream lives', async () => {
    const viewer = AdsClient.connect(plane.xdsPort, sidecarNode('productpage-0', '127.0.0.5', { app: 'productpage' }));
    clients.push(viewer);
    viewer.subscribe('endpoint', [V1]);
    const empty = await viewer.next();
    viewer.ack(empty, [V1]);
    expect(lbEndpoints(empty)).toEqual([]);

    const reviews = AdsClient.connect(plane.xdsPort, sidecarNode('reviews-v1-0', '127.0.0.7', { app: 'reviews', version: 'v1' }));
    reviews.subscribe('cluster');
    const withPod = await viewer.next(3000);
    viewer.ack(withPod, [V1]);
    expect(lbEndpoints(withPod)).toEqual([{ address: '127.0.0.7', port: 15006, targetPort: 9080 }]);

    reviews.close();
    expect(lbEndpoints(await viewer.next(3000))).toEqual([]);
  });
});

function lbEndpoints(res: DiscoveryResponse): { address: string; port: number; targetPort: number }[] {
  const [cla] = decodeResources(res) as { endpoints?: { lb_endpoints: EnvoyJson[] }[] }[];
  return (cla.endpoints ?? []).flatMap((l) =>
    l.lb_endpoints.map((e) => {
      const ep = e as {
        endpoint: { address: { socket_address: { address: string; port_value: number } } };
        metadata: { filter_metadata: { trellis: { fields: { target_port: { numberValue: number } } } } };
      };
      return {
        address: ep.endpoint.address.socket_address.address,
        port: ep.endpoint.address.socket_address.port_value,
        targetPort: ep.metadata.filter_metadata.trellis.fields.target_port.numberValue,
      };
    }),
  );
}
