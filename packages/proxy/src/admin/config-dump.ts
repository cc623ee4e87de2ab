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
  const each = (kind: ResourceKind) =>
    [...raw.resources[kind].entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => typed(kind, kind === 'listener' ? redactKeys(r) : r));
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

/**
 * A listener with its TLS private keys replaced by `[redacted]`, as Envoy's config dump shows fields marked
 * sensitive: a gateway's keys arrive inline (from a Secret) and must not leak through the admin port.
 */
function redactKeys(v: EnvoyJson): EnvoyJson {
  if (!JSON.stringify(v).includes('"private_key"')) return v;
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x === null || typeof x !== 'object' || ArrayBuffer.isView(x)) return x;
    return Object.fromEntries(Object.entries(x).map(([k, val]) => [k, k === 'private_key' ? { inline_string: '[redacted]' } : walk(val)]));
  };
  return walk(v) as EnvoyJson;
}

function typed(kind: ResourceKind, r: EnvoyJson): EnvoyJson {
  return r['@type'] ? r : { '@type': TYPE_URL[kind], ...r };
}
