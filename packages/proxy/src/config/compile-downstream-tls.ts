import tls from 'node:tls';
import type { EnvoyJson } from '@trellis/envoy-api';
import type { HttpConnectionManagerConfig } from './compiled-config.js';
import { Where, anyTypeName, dataSource, enumName, list, obj, rejectNonEmpty, str, wrappedBool } from './envoy-values.js';

const DOWNSTREAM_TLS_TYPE = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const TLS_SOCKET_NAMES = ['envoy.transport_sockets.tls', 'tls'];

/** What a TLS-terminating filter chain needs at run time: Node's TLS settings, precompiled, and the checks after the handshake. */
export interface DownstreamTlsConfig {
  /** Options for the listener's TLS server when this chain is its default (no SNI). */
  readonly serverOptions: tls.SecureContextOptions;
  /** The same, compiled once: handed to SNICallback for this chain's names. */
  readonly secureContext: tls.SecureContext;
  readonly alpn: readonly string[];
  /** `validation_context` set: client certificates are requested and, when presented, verified. */
  readonly verifyClient: boolean;
  /** `require_client_certificate`: a connection without a valid client certificate is closed. */
  readonly requireClientCertificate: boolean;
  /** `match_typed_subject_alt_names` as `DNS:name` / `URI:name` (exact): one must be in the client's SANs. */
  readonly clientSans: readonly string[];
}

/** One filter chain of a TLS listener: matched by SNI (`server_names`; none = the default chain). */
export interface TlsFilterChain {
  readonly name: string;
  readonly serverNames: readonly string[];
  readonly tls: DownstreamTlsConfig;
  readonly hcm: HttpConnectionManagerConfig;
}

/** A TLS listener's chains: SNI picks one per connection (Envoy's filter chain match on server_names). */
export interface ListenerTlsConfig {
  readonly chains: readonly TlsFilterChain[];
}

/** Envoy's TlsParameters.TlsProtocol -> Node's TLS version names. */
const VERSIONS: Record<string, tls.SecureVersion | undefined> = {
  TLS_AUTO: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

function tlsVersion(where: Where, v: unknown, field: string): tls.SecureVersion | undefined {
  return VERSIONS[enumName(where, v, field, Object.keys(VERSIONS), 'TLS_AUTO')];
}

function clientSans(where: Where, vc: EnvoyJson, field: string): string[] {
  return list(where, vc.match_typed_subject_alt_names, `${field}.match_typed_subject_alt_names`).map((m, i) => {
    const f = `${field}.match_typed_subject_alt_names[${i}]`;
    const o = obj(where, m, f)!;
    const type = enumName(where, o.san_type, `${f}.san_type`, ['SAN_TYPE_UNSPECIFIED', 'EMAIL', 'DNS', 'URI', 'IP_ADDRESS', 'OTHER_NAME'] as const, 'SAN_TYPE_UNSPECIFIED');
    if (type !== 'DNS' && type !== 'URI') where.reject(`${f}.san_type`, 'only DNS and URI subject alt names are supported');
    const exact = str(where, obj(where, o.matcher, `${f}.matcher`)?.exact, `${f}.matcher.exact`);
    if (exact === undefined) where.reject(`${f}.matcher`, 'only exact subject alt name matches are supported');
    return `${type}:${exact}`;
  });
}

/**
 * A filter chain's `transport_socket` (envoy.transport_sockets.tls with a DownstreamTlsContext): one
 * certificate and key, ALPN, protocol versions and ciphers, and client verification against `trusted_ca`.
 * Certificates must be given in the config (inline or as files): SDS is not supported.
 */
export function compileDownstreamTls(where: Where, v: unknown, field: string): DownstreamTlsConfig {
  const socket = obj(where, v, field)!;
  const typed = obj(where, socket.typed_config, `${field}.typed_config`);
  const typeName = anyTypeName(typed);
  if (!typed || (typeName !== DOWNSTREAM_TLS_TYPE && !(typeName === undefined && TLS_SOCKET_NAMES.includes(str(where, socket.name, `${field}.name`) ?? '')))) {
    where.reject(field, `transport socket ${typeName ?? socket.name ?? ''} is not supported (only a TLS DownstreamTlsContext)`);
  }
  const tc = `${field}.typed_config`;
  rejectNonEmpty(where, typed, `${tc}.`, {
    require_sni: 'require_sni is not supported',
    session_ticket_keys: 'session ticket keys are not supported',
    session_ticket_keys_sds_secret_config: 'session ticket keys are not supported',
    ocsp_staple_policy: 'OCSP stapling is not supported',
    full_scan_certs_on_sni_mismatch: 'full_scan_certs_on_sni_mismatch is not supported',
  });
  const common = obj(where, typed.common_tls_context, `${tc}.common_tls_context`) ?? where.reject(`${tc}.common_tls_context`, 'required');
  const cf = `${tc}.common_tls_context`;
  rejectNonEmpty(where, common, `${cf}.`, {
    tls_certificate_sds_secret_configs: 'SDS is not supported: give the certificate inline or as a file',
    validation_context_sds_secret_config: 'SDS is not supported: give the CA inline or as a file',
    combined_validation_context: 'combined validation contexts are not supported',
    tls_certificate_provider_instance: 'certificate providers are not supported',
    custom_handshaker: 'custom handshakers are not supported',
  });
  const certs = list(where, common.tls_certificates, `${cf}.tls_certificates`);
  if (certs.length !== 1) where.reject(`${cf}.tls_certificates`, `exactly one certificate is supported (got ${certs.length})`);
  const cert = obj(where, certs[0], `${cf}.tls_certificates[0]`)!;
  const options: tls.SecureContextOptions = {
    cert: dataSource(where, cert.certificate_chain, `${cf}.tls_certificates[0].certificate_chain`),
    key: dataSource(where, cert.private_key, `${cf}.tls_certificates[0].private_key`),
  };
  const params = obj(where, common.tls_params, `${cf}.tls_params`);
  options.minVersion = tlsVersion(where, params?.tls_minimum_protocol_version, `${cf}.tls_params.tls_minimum_protocol_version`) ?? 'TLSv1.2';
  const max = tlsVersion(where, params?.tls_maximum_protocol_version, `${cf}.tls_params.tls_maximum_protocol_version`);
  if (max) options.maxVersion = max;
  // Envoy's `[A|B]` equal-preference groups are BoringSSL syntax; OpenSSL takes the names in order.
  const ciphers = list(where, params?.cipher_suites, `${cf}.tls_params.cipher_suites`).map((c) => String(c).replace(/[[\]]/g, '').split('|')).flat();
  if (ciphers.length > 0) options.ciphers = ciphers.join(':');
  const vc = obj(where, common.validation_context, `${cf}.validation_context`);
  let sans: string[] = [];
  if (vc) {
    const vf = `${cf}.validation_context`;
    options.ca = dataSource(where, vc.trusted_ca, `${vf}.trusted_ca`);
    sans = clientSans(where, vc, vf);
    rejectNonEmpty(where, vc, `${vf}.`, {
      verify_certificate_spki: 'SPKI pinning is not supported',
      verify_certificate_hash: 'certificate hash pinning is not supported',
      crl: 'CRLs are not supported',
      match_subject_alt_names: 'use match_typed_subject_alt_names',
    });
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(options);
  } catch (err) {
    where.reject(`${cf}.tls_certificates[0]`, `invalid certificate or key: ${(err as Error).message}`);
  }
  const alpn = list(where, common.alpn_protocols, `${cf}.alpn_protocols`).map((p, i) => str(where, p, `${cf}.alpn_protocols[${i}]`) ?? '');
  const require = wrappedBool(where, typed.require_client_certificate, `${tc}.require_client_certificate`) ?? false;
  if (require && !vc) where.reject(`${tc}.require_client_certificate`, 'requiring a client certificate needs a validation_context');
  return { serverOptions: options, secureContext, alpn, verifyClient: vc !== undefined, requireClientCertificate: require, clientSans: sans };
}

/** `filter_chain_match`: only `server_names` (SNI) and `transport_protocol: tls` are supported. */
export function compileServerNames(where: Where, v: unknown, field: string): string[] {
  const m = obj(where, v, field);
  if (!m) return [];
  const { server_names, transport_protocol, source_type, ...rest } = m;
  if (source_type !== undefined && source_type !== null && source_type !== 'ANY' && source_type !== 0) {
    where.reject(`${field}.source_type`, 'only server_names can be matched');
  }
  const tp = str(where, transport_protocol, `${field}.transport_protocol`);
  if (tp !== undefined && tp !== '' && tp !== 'tls') where.reject(`${field}.transport_protocol`, `transport protocol ${tp} is not supported`);
  rejectNonEmpty(where, rest, `${field}.`, Object.fromEntries(Object.keys(rest).map((k) => [k, 'only server_names can be matched'])));
  return list(where, server_names, `${field}.server_names`).map((n, i) => (str(where, n, `${field}.server_names[${i}]`) ?? '').toLowerCase());
}

/** `listener_filters`: the TLS inspector is accepted (the proxy reads SNI during its own handshake); nothing else. */
export function checkListenerFilters(where: Where, v: unknown): void {
  list(where, v, 'listener_filters').forEach((f, i) => {
    const o = obj(where, f, `listener_filters[${i}]`)!;
    const name = anyTypeName(obj(where, o.typed_config, `listener_filters[${i}].typed_config`)) ?? str(where, o.name, `listener_filters[${i}].name`);
    if (name !== 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' && name !== 'envoy.filters.listener.tls_inspector') {
      where.reject(`listener_filters[${i}]`, `listener filter ${name} is not supported (only the TLS inspector)`);
    }
  });
}
