import { EXTENSION_TYPE_URL, type EnvoyJson } from '@trellis/envoy-api';
import { isAdsSource, list, obj, str, XdsResourceType, type Problem } from './resource-type.js';

const HCM = EXTENSION_TYPE_URL.httpConnectionManager;
const ROUTER = EXTENSION_TYPE_URL.router;

/** An HttpConnectionManager found in a listener, with the path to it. */
interface FoundHcm {
  path: string;
  hcm: EnvoyJson;
}

/** LDS: envoy.config.listener.v3.Listener. Listeners reference their RouteConfigurations by RDS name. */
export class ListenerResourceType extends XdsResourceType {
  readonly kind = 'listener' as const;
  readonly allResourcesRequiredInSotW = true;

  nameOf(value: EnvoyJson): string {
    return str(value.name);
  }

  /** The `rds.route_config_name` of every HttpConnectionManager in the listener. */
  override dependencies(listener: EnvoyJson): string[] {
    const names = connectionManagers(listener).map(({ hcm }) => str(obj(hcm.rds)?.route_config_name));
    return [...new Set(names.filter((n) => n !== ''))];
  }

  protected problems(listener: EnvoyJson): Problem[] {
    const problems: Problem[] = [];
    if (!obj(listener.address) && !obj(listener.api_listener)) {
      problems.push({ field: 'address', reason: 'a listener needs an address (or an api_listener)' });
    }
    chains(listener).forEach(({ path, chain }) =>
      list(chain.filters).forEach((f, i) => {
        if (!str(f.name)) problems.push({ field: `${path}.filters[${i}].name`, reason: 'must not be empty' });
      }),
    );
    for (const { path, hcm } of connectionManagers(listener)) problems.push(...hcmProblems(path, hcm));
    return problems;
  }
}

function chains(listener: EnvoyJson): { path: string; chain: EnvoyJson }[] {
  const found = list(listener.filter_chains).map((chain, i) => ({ path: `filter_chains[${i}]`, chain }));
  const fallback = obj(listener.default_filter_chain);
  if (fallback) found.push({ path: 'default_filter_chain', chain: fallback });
  return found;
}

/** HttpConnectionManagers in filter chains' network filters and in an api_listener (nested Anys carry `@type`). */
function connectionManagers(listener: EnvoyJson): FoundHcm[] {
  const found: FoundHcm[] = [];
  for (const { path, chain } of chains(listener)) {
    list(chain.filters).forEach((f, i) => {
      const tc = obj(f.typed_config);
      if (tc?.['@type'] === HCM) found.push({ path: `${path}.filters[${i}].typed_config`, hcm: tc });
    });
  }
  const api = obj(obj(listener.api_listener)?.api_listener);
  if (api?.['@type'] === HCM) found.push({ path: 'api_listener.api_listener', hcm: api });
  return found;
}

/** What Envoy refuses in an HttpConnectionManager before the data path ever sees it. */
function hcmProblems(path: string, hcm: EnvoyJson): Problem[] {
  const problems: Problem[] = [];
  const rds = obj(hcm.rds);
  if (rds) {
    if (!str(rds.route_config_name)) problems.push({ field: `${path}.rds.route_config_name`, reason: 'must not be empty' });
    if (!isAdsSource(rds.config_source)) {
      problems.push({ field: `${path}.rds.config_source`, reason: 'must be ads: the sidecar fetches routes only over ADS' });
    }
  } else if (obj(hcm.scoped_routes)) {
    problems.push({ field: `${path}.scoped_routes`, reason: 'scoped routes (SRDS) are not supported' });
  } else if (!obj(hcm.route_config)) {
    problems.push({ field: path, reason: 'an HttpConnectionManager needs rds or route_config' });
  }
  problems.push(...httpFilterProblems(path, list(hcm.http_filters)));
  return problems;
}

/** The router is the terminal HTTP filter: it must come last, and nothing may follow it. */
function httpFilterProblems(path: string, filters: EnvoyJson[]): Problem[] {
  const problems: Problem[] = [];
  filters.forEach((f, i) => {
    const field = `${path}.http_filters[${i}]`;
    const tc = obj(f.typed_config);
    const isRouter = tc ? tc['@type'] === ROUTER : f.name === 'envoy.filters.http.router';
    if (!str(f.name)) problems.push({ field: `${field}.name`, reason: 'must not be empty' });
    if (isRouter && i < filters.length - 1) {
      problems.push({ field, reason: `the terminal filter ${str(f.name)} must be the last HTTP filter` });
    }
    if (!isRouter && i === filters.length - 1) {
      problems.push({ field, reason: `non-terminal filter ${str(f.name)} is the last HTTP filter (the router must be)` });
    }
  });
  return problems;
}
