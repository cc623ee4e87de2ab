import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { decodeAny, encodeAny, TYPE_URL, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';
import type { MeshConfig } from '../../src/model/mesh-config.js';
import { buildRegistry } from '../../src/registry/build.js';
import type { ProxyIdentity } from '../../src/registry/proxy-identity.js';
import type { Workload } from '../../src/registry/types.js';
import { generateResources } from '../../src/translate/index.js';
import type { NamedResource, TranslateInput } from '../../src/translate/types.js';

export function proxy(overrides: Partial<ProxyIdentity> = {}): ProxyIdentity {
  return {
    id: 'sidecar~127.0.1.100~productpage-v1-0.default~default.svc.cluster.local',
    type: 'sidecar',
    namespace: 'default',
    podName: 'productpage-v1-0',
    workloadName: 'productpage-v1',
    labels: { app: 'productpage', version: 'v1' },
    ips: ['127.0.1.100'],
    ports: [{ name: 'http', containerPort: 9080 }],
    listenerPorts: { outbound: 15001, inbound: 15006 },
    ...overrides,
  };
}

export const grpcClient = (overrides: Partial<ProxyIdentity> = {}) =>
  proxy({ id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local', type: 'grpc', podName: 'client', workloadName: 'client', labels: {}, ports: [], ...overrides });

export function input(config: MeshConfig, dynamic: readonly Workload[] = [], p: ProxyIdentity = proxy()): TranslateInput {
  return { config, registry: buildRegistry(config, dynamic), proxy: p };
}

/**
 * Encodes every resource as a real Envoy v3 message (encodeAny rejects unknown fields and enum names) and
 * checks each is named as its resource says. Returns the decoded forms, which is what a proxy receives.
 */
export function encodeAll(kind: ResourceKind, resources: readonly NamedResource[]): EnvoyJson[] {
  return resources.map((r) => {
    const any = encodeAny(TYPE_URL[kind], r.resource);
    const decoded = decodeAny(any);
    expect(kind === 'endpoint' ? decoded.cluster_name : decoded.name).toBe(r.name);
    return decoded;
  });
}

/** generateResources, with every resource proven encodable; returns the resources by name. */
export function gen(i: TranslateInput, kind: ResourceKind, names: readonly string[] | null = null): Map<string, EnvoyJson> {
  const out = generateResources(i, kind, names);
  encodeAll(kind, out);
  expect(new Set(out.map((r) => r.name)).size).toBe(out.length);
  return new Map(out.map((r) => [r.name, r.resource]));
}

/** All four kinds for a proxy's wildcard subscriptions plus its route configs by name, all encoded. */
export function genAll(i: TranslateInput) {
  const clusters = gen(i, 'cluster');
  const endpoints = gen(i, 'endpoint');
  const listeners = gen(i, 'listener');
  const routes = gen(i, 'route');
  return { clusters, endpoints, listeners, routes };
}

export function must<T>(v: T | undefined, what = 'value'): T {
  expect(v, `${what} should exist`).toBeDefined();
  return v as T;
}

type Json = any;

export function vhosts(routeConfig: EnvoyJson | undefined): Json[] {
  return (must(routeConfig, 'route configuration').virtual_hosts as Json[]) ?? [];
}

export function vhost(routeConfig: EnvoyJson | undefined, name: string): Json {
  return must(vhosts(routeConfig).find((v) => v.name === name), `virtual host ${name}`);
}

/** Envoy rejects a route configuration where two virtual hosts share a domain. */
export function expectUniqueDomains(routeConfig: EnvoyJson | undefined): void {
  const all = vhosts(routeConfig).flatMap((v) => v.domains as string[]);
  const dupes = all.filter((d, i) => all.indexOf(d) !== i);
  expect(dupes).toEqual([]);
}

// ---------------------------------------------------------------- gRPC's own validation

const require = createRequire(import.meta.url);
let grpcTypes: Record<ResourceKind, { decode(ctx: unknown, any: unknown): { name: string; error?: string } }> | undefined;

/**
 * Runs gRPC's xDS client validation (@grpc/grpc-js-xds, what proxyless clients NACK on) over encoded
 * resources; returns the errors, [] when gRPC would accept them all.
 */
export function grpcErrors(kind: ResourceKind, resources: readonly NamedResource[]): string[] {
  if (!grpcTypes) {
    require('@grpc/grpc-js-xds').register();
    const base = '@grpc/grpc-js-xds/build/src/xds-resource-type/';
    grpcTypes = {
      listener: require(`${base}listener-resource-type.js`).ListenerResourceType.get(),
      route: require(`${base}route-config-resource-type.js`).RouteConfigurationResourceType.get(),
      cluster: require(`${base}cluster-resource-type.js`).ClusterResourceType.get(),
      endpoint: require(`${base}endpoint-resource-type.js`).EndpointResourceType.get(),
    };
  }
  const context = { bootstrap: { certificateProviders: {} }, server: {} };
  return resources.flatMap((r) => {
    const any = encodeAny(TYPE_URL[kind], r.resource);
    const result = grpcTypes![kind].decode(context, { type_url: any.type_url, value: Buffer.from(any.value) });
    return result.error ? [`${r.name}: ${result.error}`] : [];
  });
}
