import { describe, expect, test } from 'vitest';
import type { ResourceKind } from '@trellis/envoy-api';
import { generateResources } from '../../src/translate/index.js';
import { configFromYaml } from '../registry/config-helpers.js';
import { gen, grpcClient, grpcErrors, input, must, vhosts } from './helpers.js';

// Proxyless gRPC clients (@grpc/grpc-js-xds) subscribe by target name and validate strictly: every
// resource here must also pass gRPC's own checks, or the client would NACK it.
const FQDN = 'greeter.default.svc.cluster.local';
const yaml = `
apiVersion: v1
kind: Service
metadata: { name: greeter }
spec:
  selector: { app: greeter }
  ports: [{ name: grpc, port: 50051 }]
---
apiVersion: v1
kind: Service
metadata: { name: multi }
spec:
  selector: { app: multi }
  ports: [{ name: http-admin, port: 8080 }, { name: grpc-api, port: 9090 }, { name: tcp, port: 5000 }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: greeter-v1 }
spec: { address: 127.0.0.1, labels: { app: greeter, version: v1 }, ports: { grpc: 40001 } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: greeter-v2 }
spec: { address: 127.0.0.1, labels: { app: greeter, version: v2 }, ports: { grpc: 40002 }, locality: us-east/a }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: greeter }
spec:
  host: greeter
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    outlierDetection: { consecutive5xxErrors: 3 }
    connectionPool: { http: { http2MaxRequests: 100 } }
    tls: { mode: SIMPLE }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - name: v2
    labels: { version: v2 }
    trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: x-user, maglev: {} } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: greeter }
spec:
  hosts: [greeter]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    fault: { delay: { fixedDelay: 1s, percentage: { value: 10 } } }
    corsPolicy: { allowOrigins: [{ exact: "https://x.example" }] }
    timeout: 2s
    retries: { attempts: 3, retryOn: unavailable }
    route: [{ destination: { host: greeter, subset: v2 } }]
  - route:
    - { destination: { host: greeter, subset: v1 }, weight: 80 }
    - { destination: { host: greeter, subset: v2 }, weight: 20 }
`;
const i = input(configFromYaml(yaml), [], grpcClient());

/** generateResources, asserting Envoy-valid (encodable) and gRPC-valid. */
function grpcGen(kind: ResourceKind, names: string[] | null) {
  const out = generateResources(i, kind, names);
  expect(grpcErrors(kind, out)).toEqual([]);
  return gen(i, kind, names);
}

describe('proxyless gRPC subscriptions', () => {
  test('LDS by target name: an api_listener whose HCM fetches the route config of the same name', () => {
    const names = ['greeter', 'greeter:50051', `${FQDN}:50051`, 'greeter.default', 'multi', 'unknown', 'greeter:1234'];
    const listeners = grpcGen('listener', names);
    expect([...listeners.keys()]).toEqual(['greeter', 'greeter:50051', `${FQDN}:50051`, 'greeter.default', 'multi']);
    const l: any = listeners.get('greeter:50051');
    expect(l.address).toBeUndefined();
    expect(l.api_listener.api_listener.rds).toEqual({ config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'greeter:50051' });
    expect(l.api_listener.api_listener.http_filters.at(-1).name).toBe('envoy.filters.http.router');
  });

  test('a wildcard LDS or RDS request gets nothing: gRPC only knows its targets', () => {
    expect(generateResources(i, 'listener', null)).toEqual([]);
    expect(generateResources(i, 'route', null)).toEqual([]);
  });

  test('RDS by target name: one virtual host answering to the name and every host form', () => {
    const routes = grpcGen('route', ['greeter', 'multi']);
    const [vh] = vhosts(routes.get('greeter'));
    expect(vh.domains).toEqual(expect.arrayContaining(['greeter', `${FQDN}:50051`, 'greeter:50051', FQDN]));
    expect(new Set(vh.domains).size).toBe(vh.domains.length);
    const [canary, split] = vh.routes;
    expect(canary.route.cluster).toBe(`outbound|50051|v2|${FQDN}`);
    expect(canary.route.max_stream_duration).toEqual({ max_stream_duration: { seconds: 2 } });
    // CORS is wrapped as optional: gRPC has no CORS filter and would reject it bare.
    expect(canary.typed_per_filter_config['envoy.filters.http.cors']).toMatchObject({
      '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', is_optional: true,
    });
    expect(split.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value])).toEqual([[`outbound|50051|v1|${FQDN}`, 80], [`outbound|50051|v2|${FQDN}`, 20]]);
    // A port-less name on a multi-port service means its gRPC port.
    expect(vhosts(routes.get('multi'))[0].name).toBe('multi.default.svc.cluster.local:9090');
  });

  test('CDS: balancers gRPC supports, no TLS it would reject, limits kept', () => {
    const names = [`outbound|50051||${FQDN}`, `outbound|50051|v1|${FQDN}`, `outbound|50051|v2|${FQDN}`];
    const clusters = grpcGen('cluster', names);
    const v1: any = must(clusters.get(`outbound|50051|v1|${FQDN}`));
    expect(v1.lb_policy).toBe('ROUND_ROBIN');
    expect(v1.transport_socket).toBeUndefined();
    expect(v1.outlier_detection.consecutive_5xx).toEqual({ value: 3 });
    expect(v1.circuit_breakers.thresholds[0].max_requests).toEqual({ value: 100 });
    expect((clusters.get(`outbound|50051|v2|${FQDN}`) as any).lb_policy).toBe('RING_HASH');
  });

  test('EDS: endpoints at the WorkloadEntry ports, localities weighted', () => {
    const eds = grpcGen('endpoint', [`outbound|50051||${FQDN}`, `outbound|50051|v2|${FQDN}`]);
    const all: any = must(eds.get(`outbound|50051||${FQDN}`));
    expect(all.endpoints.map((l: any) => [l.locality.region, l.load_balancing_weight.value, l.lb_endpoints.map((e: any) => e.endpoint.address.socket_address.port_value)])).toEqual([
      ['', 1, [40001]],
      ['us-east', 1, [40002]],
    ]);
  });
});

test("control: gRPC's validator rejects what a sidecar gets (LEAST_REQUEST, TLS without certificate providers, bare CORS)", () => {
  const sidecar = { ...i, proxy: { ...i.proxy, type: 'sidecar' as const } };
  const clusterErrors = grpcErrors('cluster', generateResources(sidecar, 'cluster', [`outbound|50051|v1|${FQDN}`]));
  expect(clusterErrors.join()).toMatch(/lb_policy: LEAST_REQUEST/);
  const routeErrors = grpcErrors('route', generateResources(sidecar, 'route', ['greeter']));
  expect(routeErrors.join()).toMatch(/typed_per_filter_config\[envoy.filters.http.cors\] validation failed/);
});
