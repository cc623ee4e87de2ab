import { TYPE_URL, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';
import type { RawSnapshot } from '../config/raw-snapshot.js';

const DUMP_TYPE = 'type.googleapis.com/envoy.admin.v3.';

/** When each resource type's current version was accepted. */
export type LastUpdated = Readonly<Record<ResourceKind, Date | null>>;

/**
 * Envoy's `/config_dump` shape (admin.v3.ConfigDump) over the accepted resources: clusters, listeners and
 * routes always, endpoints with `include_eds` (as in Envoy).
 */
export function configDump(raw: RawSnapshot, lastUpdated: LastUpdated, includeEds: boolean): EnvoyJson {
  const v = raw.versions;
  const stamp = (kind: ResourceKind) => lastUpdated[kind]?.toISOString();
  const each = (kind: ResourceKind) => [...raw.resources[kind].entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => typed(kind, r));
  const configs: EnvoyJson[] = [
    {
      '@type': `${DUMP_TYPE}ClustersConfigDump`,
      version_info: v.cluster,
      dynamic_active_clusters: each('cluster').map((cluster) => ({ version_info: v.cluster, cluster, last_updated: stamp('cluster') })),
    },
    {
      '@type': `${DUMP_TYPE}ListenersConfigDump`,
      version_info: v.listener,
      dynamic_listeners: each('listener').map((listener) => ({
        name: listener.name,
        active_state: { version_info: v.listener, listener, last_updated: stamp('listener') },
      })),
    },
    {
      '@type': `${DUMP_TYPE}RoutesConfigDump`,
      dynamic_route_configs: each('route').map((route_config) => ({ version_info: v.route, route_config, last_updated: stamp('route') })),
    },
  ];
  if (includeEds) {
    configs.push({
      '@type': `${DUMP_TYPE}EndpointsConfigDump`,
      dynamic_endpoint_configs: each('endpoint').map((endpoint_config) => ({
        version_info: v.endpoint,
        endpoint_config,
        last_updated: stamp('endpoint'),
      })),
    });
  }
  return { configs };
}

function typed(kind: ResourceKind, r: EnvoyJson): EnvoyJson {
  return r['@type'] ? r : { '@type': TYPE_URL[kind], ...r };
}
