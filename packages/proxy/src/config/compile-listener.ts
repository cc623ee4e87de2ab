import type { EnvoyJson } from '@trellis/envoy-api';
import { findHttpFilterKind } from '../http/filter-registry.js';
import type { HttpFilter } from '../http/http-filter.js';
import type { CodecType, HttpConnectionManagerConfig, HttpFilterConfig, ListenerConfig, ServerHeaderTransformation } from './compiled-config.js';
import { compileRouteConfiguration } from './compile-route.js';
import {
  Where,
  anyTypeName,
  bool,
  enumName,
  list,
  num,
  obj,
  rejectNonEmpty,
  str,
  wrappedBool,
} from './envoy-values.js';

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const HCM_NAMES = ['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager'];

/**
 * Compiles a Listener: its socket address and the HttpConnectionManager of its (single) filter chain.
 * Listeners that need anything else (TLS, TCP proxying, several filter chains) are refused.
 */
export function compileListener(where: Where, l: EnvoyJson): ListenerConfig {
  const name = str(where, l.name, 'name') ?? '';
  rejectNonEmpty(where, l, '', {
    api_listener: 'API listeners are for proxyless gRPC clients, not the sidecar',
    listener_filters: 'listener filters are not supported',
    default_filter_chain: 'default_filter_chain is not supported',
    udp_listener_config: 'UDP listeners are not supported',
    internal_listener: 'internal listeners are not supported',
    additional_addresses: 'additional addresses are not supported',
  });
  const addr = obj(where, l.address, 'address') ?? where.reject('address', 'an address is required');
  const sa = obj(where, addr.socket_address, 'address.socket_address') ?? where.reject('address', 'only socket addresses are supported');
  const port = num(where, sa.port_value, 'address.socket_address.port_value') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) where.reject('address.socket_address.port_value', `invalid port ${port}`);
  const chains = list(where, l.filter_chains, 'filter_chains');
  if (chains.length !== 1) where.reject('filter_chains', `exactly one filter chain is supported (got ${chains.length})`);
  const chain = obj(where, chains[0], 'filter_chains[0]')!;
  rejectNonEmpty(where, chain, 'filter_chains[0].', {
    filter_chain_match: 'filter chain matching is not supported',
    transport_socket: 'TLS on listeners is not supported',
  });
  const filters = list(where, chain.filters, 'filter_chains[0].filters');
  if (filters.length !== 1) where.reject('filter_chains[0].filters', `exactly one network filter (the HTTP connection manager) is supported (got ${filters.length})`);
  const f = obj(where, filters[0], 'filter_chains[0].filters[0]')!;
  const fname = str(where, f.name, 'filter_chains[0].filters[0].name') ?? '';
  const typed = obj(where, f.typed_config, 'filter_chains[0].filters[0].typed_config');
  const typeName = anyTypeName(typed);
  if (!typed || (typeName !== HCM_TYPE && !(typeName === undefined && HCM_NAMES.includes(fname)))) {
    where.reject('filter_chains[0].filters[0]', `network filter ${typeName ?? fname} is not supported (only the HTTP connection manager)`);
  }
  return {
    name,
    address: { address: str(where, sa.address, 'address.socket_address.address') ?? '0.0.0.0', port },
    hcm: compileHcm(where, typed, 'filter_chains[0].filters[0].typed_config'),
  };
}

const CODECS: readonly CodecType[] = ['AUTO', 'HTTP1', 'HTTP2'];
const SERVER_HEADER: readonly ServerHeaderTransformation[] = ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'];

function compileHcm(where: Where, h: EnvoyJson, field: string): HttpConnectionManagerConfig {
  rejectNonEmpty(where, h, `${field}.`, {
    scoped_routes: 'scoped routes are not supported',
    http3_protocol_options: 'HTTP/3 is not supported',
  });
  const codec = enumName(where, h.codec_type, `${field}.codec_type`, [...CODECS, 'HTTP3'] as const, 'AUTO');
  if (codec === 'HTTP3') where.reject(`${field}.codec_type`, 'HTTP/3 is not supported');
  const rds = obj(where, h.rds, `${field}.rds`);
  const inline = obj(where, h.route_config, `${field}.route_config`);
  if (!rds && !inline) where.reject(field, 'one of rds, route_config is required');
  const routeConfigName = rds ? (str(where, rds.route_config_name, `${field}.rds.route_config_name`) ?? '') : null;
  const { httpFilters, filterChain, suppressEnvoyHeaders } = compileHttpFilters(where, h.http_filters, `${field}.http_filters`);
  return {
    statPrefix: str(where, h.stat_prefix, `${field}.stat_prefix`) ?? '',
    codecType: codec as CodecType,
    routeConfigName,
    inlineRoutes: inline ? compileRouteConfiguration(where, inline, `${field}.route_config.`) : null,
    httpFilters,
    filterChain,
    upgradeTypes: compileUpgrades(where, h.upgrade_configs, `${field}.upgrade_configs`),
    serverName: str(where, h.server_name, `${field}.server_name`) || 'envoy',
    serverHeaderTransformation: enumName(where, h.server_header_transformation, `${field}.server_header_transformation`, SERVER_HEADER, 'OVERWRITE'),
    skipXffAppend: bool(where, h.skip_xff_append, `${field}.skip_xff_append`) ?? false,
    generateRequestId: wrappedBool(where, h.generate_request_id, `${field}.generate_request_id`) ?? true,
    normalizePath: wrappedBool(where, h.normalize_path, `${field}.normalize_path`) ?? false,
    mergeSlashes: bool(where, h.merge_slashes, `${field}.merge_slashes`) ?? false,
    stripAnyHostPort: bool(where, h.strip_any_host_port, `${field}.strip_any_host_port`) ?? false,
    suppressEnvoyHeaders,
  };
}

function compileUpgrades(where: Where, v: unknown, field: string): ReadonlySet<string> {
  const out = new Set<string>();
  list(where, v, field).forEach((u, i) => {
    const o = obj(where, u, `${field}[${i}]`)!;
    const type = (str(where, o.upgrade_type, `${field}[${i}].upgrade_type`) ?? '').toLowerCase();
    if (type === 'connect') where.reject(`${field}[${i}].upgrade_type`, 'CONNECT is not supported');
    if (list(where, o.filters, `${field}[${i}].filters`).length > 0) where.reject(`${field}[${i}].filters`, 'upgrade-specific filter chains are not supported');
    if (wrappedBool(where, o.enabled, `${field}[${i}].enabled`) ?? true) out.add(type);
  });
  return out;
}

/**
 * `http_filters`: every filter must be one Trellis knows (or be marked optional), and the router must be
 * last, as Envoy requires of its terminal filter.
 */
function compileHttpFilters(
  where: Where,
  v: unknown,
  field: string,
): { httpFilters: HttpFilterConfig[]; filterChain: HttpFilter[]; suppressEnvoyHeaders: boolean } {
  const httpFilters: HttpFilterConfig[] = [];
  const filterChain: HttpFilter[] = [];
  let suppressEnvoyHeaders = false;
  const entries = list(where, v, field);
  if (entries.length === 0) where.reject(field, 'the filter chain is empty: a router filter is required');
  entries.forEach((e, i) => {
    const f = `${field}[${i}]`;
    const o = obj(where, e, f)!;
    const name = str(where, o.name, `${f}.name`) ?? '';
    if (o.config_discovery !== undefined) where.reject(`${f}.config_discovery`, 'filter config discovery (ECDS) is not supported');
    const typed = obj(where, o.typed_config, `${f}.typed_config`);
    const typeName = anyTypeName(typed);
    const kind = findHttpFilterKind(typeName, name);
    if (!kind) {
      if (bool(where, o.is_optional, `${f}.is_optional`)) return;
      where.reject(f, `HTTP filter ${typeName ?? name} is not supported`);
    }
    const last = i === entries.length - 1;
    if (kind.terminal && !last) where.reject(f, `terminal filter named ${name} of type ${kind.typeName} must be the last filter in a http filter chain`);
    if (!kind.terminal && last) where.reject(f, `non-terminal filter named ${name} of type ${kind.typeName} is the last filter in a http filter chain`);
    const config: HttpFilterConfig = { name, typeName: kind.typeName, config: typed ?? {} };
    httpFilters.push(config);
    if (kind.terminal) suppressEnvoyHeaders = bool(where, config.config.suppress_envoy_headers, `${f}.typed_config.suppress_envoy_headers`) ?? false;
    filterChain.push(kind.create(config, where, `${f}.typed_config`));
  });
  return { httpFilters, filterChain, suppressEnvoyHeaders };
}
