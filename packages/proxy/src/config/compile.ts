import type { EnvoyJson } from '@trellis/envoy-api';
import type { RouteTable } from '../router/route-table.js';
import type { ClusterConfig, CompiledConfig, ListenerConfig } from './compiled-config.js';
import { compileCluster } from './compile-cluster.js';
import { compileListener } from './compile-listener.js';
import { compileRouteConfiguration } from './compile-route.js';
import { Where, isObject } from './envoy-values.js';
import type { RawSnapshot } from './raw-snapshot.js';
import type { Tracer } from '../tracing/tracer.js';

/** What the sidecar brings to a compile besides the resources. */
export interface CompileOptions {
  /** The sidecar's tracer: when set, every HTTP connection manager starts with the tracing filter. */
  readonly tracer?: Tracer | null;
}

/**
 * Compiles the accepted xDS resources into what the data path runs. Pure and all-or-nothing: throws
 * ConfigRejected (kind, resource, field, reason) for the first thing it can't run, which is how the xDS
 * client decides between ACK and NACK; on success the result can be swapped in as is.
 *
 * References between resources are resolved the way Envoy does at run time, not refused: a listener's RDS
 * name without a RouteConfiguration routes nothing (404 NR), a route to an unknown cluster answers 503
 * NC, an EDS cluster without a ClusterLoadAssignment has no endpoints (503 UH).
 */
export function compileConfig(raw: RawSnapshot, options: CompileOptions = {}): CompiledConfig {
  const listeners = new Map<string, ListenerConfig>();
  for (const [name, l] of raw.resources.listener) {
    listeners.set(name, compileListener(new Where('listener', name), resource('listener', name, l), options.tracer ?? null));
  }
  const routeConfigs = new Map<string, RouteTable>();
  for (const [name, rc] of raw.resources.route) {
    routeConfigs.set(name, compileRouteConfiguration(new Where('route', name), resource('route', name, rc)));
  }
  const assignments = new Map<string, EnvoyJson>();
  for (const [name, cla] of raw.resources.endpoint) assignments.set(name, resource('endpoint', name, cla));
  const clusters = new Map<string, ClusterConfig>();
  for (const [name, c] of raw.resources.cluster) {
    const cluster = compileCluster(new Where('cluster', name), resource('cluster', name, c), assignments);
    clusters.set(name, { ...cluster, signature: signature(c, cluster.edsServiceName ? assignments.get(cluster.edsServiceName) : undefined) });
  }
  return { raw, listeners, routeConfigs, clusters };
}

function resource(kind: 'listener' | 'route' | 'cluster' | 'endpoint', name: string, v: unknown): EnvoyJson {
  if (!isObject(v)) new Where(kind, name).reject('', 'expected a resource object');
  return v as EnvoyJson;
}

/** Identity of a cluster's config and endpoints: equal signatures keep the run-time cluster. */
function signature(cluster: unknown, assignment: unknown): string {
  return JSON.stringify([cluster, assignment ?? null]);
}
