import type { EnvoyJson } from '@trellis/envoy-api';
import { CLUSTER_SPECIFIERS } from '../../config/compile-route.js';
import { list, obj, str, XdsResourceType, type Problem } from './resource-type.js';

const ACTIONS = ['route', 'redirect', 'direct_response', 'filter_action', 'non_forwarding_action'];
const PATH_SPECIFIERS = ['prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix', 'path_match_policy'];

/** RDS: envoy.config.route.v3.RouteConfiguration, subscribed by the names listeners give. */
export class RouteResourceType extends XdsResourceType {
  readonly kind = 'route' as const;
  readonly allResourcesRequiredInSotW = false;

  nameOf(value: EnvoyJson): string {
    return str(value.name);
  }

  protected problems(rc: EnvoyJson): Problem[] {
    const problems: Problem[] = [];
    const domains = new Map<string, number>();
    list(rc.virtual_hosts).forEach((vh, i) => {
      const at = `virtual_hosts[${i}]`;
      if (!str(vh.name)) problems.push({ field: `${at}.name`, reason: 'must not be empty' });
      const own = Array.isArray(vh.domains) ? (vh.domains as unknown[]).map(str) : [];
      if (own.length === 0) problems.push({ field: `${at}.domains`, reason: 'a virtual host needs at least one domain' });
      for (const d of own) {
        // Envoy picks the virtual host by domain, so a domain may appear once in a route configuration.
        const first = domains.get(d.toLowerCase());
        if (first !== undefined) {
          problems.push({ field: `${at}.domains`, reason: `domain ${d} is already in virtual_hosts[${first}]` });
        } else domains.set(d.toLowerCase(), i);
      }
      list(vh.routes).forEach((r, j) => problems.push(...routeProblems(`${at}.routes[${j}]`, r)));
    });
    return problems;
  }
}

function routeProblems(at: string, route: EnvoyJson): Problem[] {
  const problems: Problem[] = [];
  const match = obj(route.match);
  if (!match || !PATH_SPECIFIERS.some((k) => match[k] !== undefined)) {
    problems.push({ field: `${at}.match`, reason: 'needs a path specifier (prefix, path, safe_regex, ...)' });
  }
  if (!ACTIONS.some((k) => obj(route[k]))) {
    problems.push({ field: at, reason: 'needs an action (route, redirect or direct_response)' });
  }
  const action = obj(route.route);
  if (action && !CLUSTER_SPECIFIERS.some((k) => action[k] !== undefined && action[k] !== '')) {
    problems.push({ field: `${at}.route`, reason: 'needs a cluster (cluster, cluster_header or weighted_clusters)' });
  }
  const weighted = obj(action?.weighted_clusters);
  if (weighted && list(weighted.clusters).length === 0) {
    problems.push({ field: `${at}.route.weighted_clusters.clusters`, reason: 'must not be empty' });
  }
  return problems;
}
