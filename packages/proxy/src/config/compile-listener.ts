import type { EnvoyJson } from '@trellis/envoy-api';
import { findHttpFilterKind } from '../http/filter-registry.js';
import { TracingFilter } from '../http/filters/tracing-filter.js';
import type { Tracer } from '../tracing/tracer.js';
import { compileTracing } from './compile-tracing.js';
import { compileAccessLogs } from './compile-access-log.js';
import type { HttpFilter } from '../http/http-filter.js';
import type { CodecType, HttpConnectionManagerConfig, HttpFilterConfig, ListenerConfig, ServerHeaderTransformation } from './compiled-config.js';
import { compileRouteConfiguration } from './compile-route.js';
import { checkListenerFilters, compileDownstreamTls, compileServerNames, type ListenerTlsConfig, type TlsFilterChain } from './compile-downstream-tls.js';
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
 * Compiles a Listener: its socket address and the HttpConnectionManager of its (single) filter chain, or
 * for a TLS listener its TLS-terminating chains (each an HttpConnectionManager). Listeners that need
 * anything else (TCP proxying, plaintext chain matching) are refused.
 */
export function compileListener(where: Where, l: EnvoyJson, tracer: Tracer | null = null): ListenerConfig {
  const name = str(where, l.name, 'name') ?? '';
  rejectNonEmpty(where, l, '', {
    api_listener: 'API listeners are for proxyless gRPC clients, not the sidecar',
    default_filter_chain: 'default_filter_chain is not supported',
    udp_listener_config: 'UDP listeners are not supported',
    internal_listener: 'internal listeners are not supported',
    additional_addresses: 'additional addresses are not supported',
  });
  checkListenerFilters(where, l.listener_filters);
  const addr = obj(where, l.address, 'address') ?? where.reject('address', 'an address is required');
  const sa = obj(where, addr.socket_address, 'address.socket_address') ?? where.reject('address', 'only socket addresses are supported');
  const port = num(where, sa.port_value, 'address.socket_address.port_value') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) where.reject('address.socket_address.port_value', `invalid port ${port}`);
  const chains = list(where, l.filter_chains, 'filter_chains');
  if (chains.length === 0) where.reject('filter_chains', 'at least one filter chain is required');
  const trafficDirection = enumName(where, l.traffic_direction, 'traffic_direction', DIRECTIONS, 'UNSPECIFIED');
  const traced = (hcm: HttpConnectionManagerConfig) => (tracer === null ? hcm : withTracing(hcm, tracer, trafficDirection));
  const first = obj(where, chains[0], 'filter_chains[0]')!;
  // The sidecar's listeners: one plaintext chain. TLS-terminating chains (a gateway's HTTPS servers) may be several, told apart by SNI.
  const tls = first.transport_socket ? compileTlsChains(where, chains, traced) : null;
  if (!tls) {
    if (chains.length !== 1) where.reject('filter_chains', `several filter chains are supported only when they terminate TLS (got ${chains.length})`);
    rejectNonEmpty(where, first, 'filter_chains[0].', { filter_chain_match: 'filter chain matching is supported only for TLS chains (server_names)' });
  }
  return {
    name,
    trafficDirection,
    address: { address: str(where, sa.address, 'address.socket_address.address') ?? '0.0.0.0', port },
    hcm: tls ? tls.chains[0]!.hcm : traced(compileHcm(where, chainHcm(where, first, 'filter_chains[0]'), 'filter_chains[0].filters[0].typed_config')),
    tls,
  };
}

/** A filter chain's single network filter, the HTTP connection manager (its typed config). */
function chainHcm(where: Where, chain: EnvoyJson, field: string): EnvoyJson {
  const filters = list(where, chain.filters, `${field}.filters`);
  if (filters.length !== 1) where.reject(`${field}.filters`, `exactly one network filter (the HTTP connection manager) is supported (got ${filters.length})`);
  const f = obj(where, filters[0], `${field}.filters[0]`)!;
  const fname = str(where, f.name, `${field}.filters[0].name`) ?? '';
  const typed = obj(where, f.typed_config, `${field}.filters[0].typed_config`);
  const typeName = anyTypeName(typed);
  if (!typed || (typeName !== HCM_TYPE && !(typeName === undefined && HCM_NAMES.includes(fname)))) {
    where.reject(`${field}.filters[0]`, `network filter ${typeName ?? fname} is not supported (only the HTTP connection manager)`);
  }
  return typed;
}

/**
 * TLS listeners: every chain terminates TLS (plaintext and TLS can't share a port here) and is picked by
 * SNI; names may not repeat across chains, and at most one chain matches any name (the default).
 */
function compileTlsChains(where: Where, chains: readonly unknown[], traced: (hcm: HttpConnectionManagerConfig) => HttpConnectionManagerConfig): ListenerTlsConfig {
  const seen = new Set<string>();
  const names = new Set<string>();
  const out = chains.map((c, i): TlsFilterChain => {
    const field = `filter_chains[${i}]`;
    const chain = obj(where, c, field)!;
    if (!chain.transport_socket) where.reject(`${field}.transport_socket`, 'plaintext and TLS filter chains on one listener are not supported');
    const serverNames = compileServerNames(where, chain.filter_chain_match, `${field}.filter_chain_match`);
    for (const n of serverNames.length > 0 ? serverNames : ['']) {
      if (seen.has(n)) where.reject(`${field}.filter_chain_match`, `multiple filter chains with the same matching rules${n ? ` (server name ${n})` : ''}`);
      seen.add(n);
    }
    // Chains are told apart by name at run time: unnamed ones are named by position.
    const chainName = str(where, chain.name, `${field}.name`) || field;
    if (names.has(chainName)) where.reject(`${field}.name`, `filter chain name ${chainName} is used twice`);
    names.add(chainName);
    return {
      name: chainName,
      serverNames,
      tls: compileDownstreamTls(where, chain.transport_socket, `${field}.transport_socket`),
      hcm: traced({ ...compileHcm(where, chainHcm(where, chain, field), `${field}.filters[0].typed_config`), downstreamTls: true }),
    };
  });
  return { chains: out };
}

const DIRECTIONS = ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'] as const;

/**
 * The sidecar takes part in traces on every listener (Envoy: the HCM's tracing): the tracing filter goes
 * first, so the trace headers are rewritten before anything copies them upstream. As in Envoy, only an
 * OUTBOUND listener is the client side of a hop.
 */
function withTracing(hcm: HttpConnectionManagerConfig, tracer: Tracer, direction: (typeof DIRECTIONS)[number]): HttpConnectionManagerConfig {
  return { ...hcm, filterChain: [new TracingFilter(tracer, hcm.tracing, direction !== 'OUTBOUND'), ...hcm.filterChain] };
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
    downstreamTls: false,
    suppressEnvoyHeaders,
    tracing: compileTracing(where, h.tracing, `${field}.tracing`),
    accessLogs: compileAccessLogs(where, h.access_log, `${field}.access_log`),
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
