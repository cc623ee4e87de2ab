import { Registry } from 'prom-client';
import { jsonToStruct, type Node, type ResourceKind } from '@trellis/envoy-api';
import type { ProxyIdentity } from '../../src/registry/proxy-identity.js';
import type { NamedResource } from '../../src/translate/types.js';
import { XdsServer, type XdsServerOptions } from '../../src/xds/server.js';
import { XdsMetrics } from '../../src/xds/metrics.js';
import { AdsClient } from '../helpers/ads-client.js';

/** An Istio-style sidecar node: id `sidecar~IP~POD.NS~NS.svc.cluster.local`, metadata NAMESPACE/NAME. */
export function sidecarNode(pod: string, ns = 'default', ip = '127.0.1.2'): Node {
  return {
    id: `sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`,
    cluster: pod.replace(/-[^-]+$/, ''),
    metadata: jsonToStruct({ NAMESPACE: ns, NAME: pod, INSTANCE_IPS: ip }),
  };
}

/** Test identify: reads the node id like Istio does (type~ip~pod.ns~domain). */
export function identify(node: Node): ProxyIdentity {
  const [type, ip, podNs] = node.id.split('~');
  if (!podNs || (type !== 'sidecar' && type !== 'router')) throw new Error(`not an Istio node id: ${node.id}`);
  const [podName = '', namespace = ''] = podNs.split('.');
  return {
    id: node.id,
    type,
    namespace,
    podName,
    workloadName: podName.replace(/-[^-]+$/, ''),
    labels: {},
    ips: ip ? [ip] : [],
    ports: [],
    listenerPorts: { outbound: 15001, inbound: 15006 },
  };
}

/**
 * A stand-in for translation: hand-made Envoy resources in object form. Every proxy gets its own
 * listener (stat_prefix = its pod name); `generation` changes content; names in `broken` get a field
 * Envoy's protos don't have, so packing them fails.
 */
export class FakeMesh {
  generation = 1;
  clusters = ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||ratings.default.svc.cluster.local'];
  routes = ['9080', '8080'];
  broken = new Set<string>();
  calls: { proxy: string; kind: ResourceKind; names: readonly string[] | null }[] = [];

  generate = (proxy: ProxyIdentity, kind: ResourceKind, names: readonly string[] | null): NamedResource[] => {
    this.calls.push({ proxy: proxy.podName, kind, names });
    const all = this.all(proxy, kind);
    const wanted = names === null ? all : all.filter((r) => names.includes(r.name));
    return wanted.map((r) => (this.broken.has(r.name) ? { ...r, resource: { ...r.resource, no_such_field: 1 } } : r));
  };

  private all(proxy: ProxyIdentity, kind: ResourceKind): NamedResource[] {
    const g = this.generation;
    switch (kind) {
      case 'cluster':
        return this.clusters.map((name) => ({
          name,
          resource: {
            name,
            type: 'EDS',
            eds_cluster_config: { eds_config: { ads: {} } },
            connect_timeout: { seconds: g },
          },
        }));
      case 'endpoint':
        return this.clusters.map((name) => ({
          name,
          resource: {
            cluster_name: name,
            endpoints: [
              { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.2.1', port_value: 9000 + g } } } }] },
            ],
          },
        }));
      case 'listener':
        return [
          {
            name: '0.0.0.0_15001',
            resource: {
              name: '0.0.0.0_15001',
              stat_prefix: proxy.podName,
              address: { socket_address: { address: proxy.ips[0] ?? '0.0.0.0', port_value: 15001 } },
            },
          },
        ];
      case 'route':
        return this.routes.map((name) => ({
          name,
          resource: {
            name,
            virtual_hosts: [{ name: `vh-${name}-${g}`, domains: ['*'] }],
          },
        }));
    }
  }
}

export interface Harness {
  server: XdsServer;
  port: number;
  mesh: FakeMesh;
  registry: Registry;
  metrics: XdsMetrics;
  logs: string[];
  connect(pod: string, ns?: string): AdsClient;
  close(): Promise<void>;
}

/** A real XdsServer on 127.0.0.1:0 fed by a FakeMesh; close() ends clients and server. */
export async function startHarness(opts: Partial<XdsServerOptions> = {}): Promise<Harness> {
  const mesh = new FakeMesh();
  const registry = new Registry();
  const metrics = new XdsMetrics(registry);
  const logs: string[] = [];
  const server = new XdsServer({
    generate: mesh.generate,
    identify,
    debounceMs: 20,
    metrics,
    log: (m) => logs.push(m),
    ...opts,
  });
  const port = await server.listen('127.0.0.1', 0);
  const clients: AdsClient[] = [];
  return {
    server,
    port,
    mesh,
    registry,
    metrics,
    logs,
    connect(pod, ns = 'default') {
      const c = AdsClient.connect(port, sidecarNode(pod, ns));
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

/** Polls until check() returns true (for state that changes after a request we don't get an answer to). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Value of a prom-client metric (with labels) from the registry, 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}
