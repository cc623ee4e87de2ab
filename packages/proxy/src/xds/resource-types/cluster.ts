import type { EnvoyJson } from '@trellis/envoy-api';
import { isAdsSource, obj, str, XdsResourceType, type Problem } from './resource-type.js';

/** Cluster.DiscoveryType values; STATIC is the proto default, so a decoded STATIC cluster has no `type`. */
const DISCOVERY_TYPES = new Set(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST']);

/** CDS: envoy.config.cluster.v3.Cluster. EDS clusters reference a ClusterLoadAssignment by service name. */
export class ClusterResourceType extends XdsResourceType {
  readonly kind = 'cluster' as const;
  readonly allResourcesRequiredInSotW = true;

  nameOf(value: EnvoyJson): string {
    return str(value.name);
  }

  /** An EDS cluster's endpoints come under `eds_cluster_config.service_name`, or the cluster's own name. */
  override dependencies(cluster: EnvoyJson): string[] {
    if (discoveryType(cluster) !== 'EDS') return [];
    return [str(obj(cluster.eds_cluster_config)?.service_name) || str(cluster.name)];
  }

  protected problems(cluster: EnvoyJson): Problem[] {
    if (obj(cluster.cluster_type)) {
      return [{ field: 'cluster_type', reason: 'custom cluster types are not supported' }];
    }
    const type = discoveryType(cluster);
    if (!DISCOVERY_TYPES.has(type)) return [{ field: 'type', reason: `unknown discovery type ${type}` }];
    if (type === 'EDS' && !isAdsSource(obj(cluster.eds_cluster_config)?.eds_config)) {
      return [{ field: 'eds_cluster_config.eds_config', reason: 'must be ads: the sidecar fetches endpoints only over ADS' }];
    }
    return [];
  }
}

function discoveryType(cluster: EnvoyJson): string {
  return cluster.type === undefined ? 'STATIC' : String(cluster.type);
}
