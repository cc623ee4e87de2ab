import { X509Certificate, createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { EnvoyJson } from '@trellis/envoy-api';
import type { SanMatcher, TlsVersion, UpstreamTlsConfig } from './compiled-config.js';
import { compileStringMatcher } from './compile-matchers.js';
import { secureContextOptions } from '../upstream/upstream-tls.js';
import { Where, anyTypeName, dataSource, enumName, isObject, list, obj, oneofKey, rejectNonEmpty, str, wrappedBool, wrappedNum } from './envoy-values.js';

// A cluster's `transport_socket`: plaintext (none, or raw_buffer) or TLS origination from an
// UpstreamTlsContext, with Envoy's semantics for what is and isn't verified.

const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const TLS_PROTOCOLS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;
const NODE_VERSION: Record<(typeof TLS_PROTOCOLS)[number], TlsVersion> = {
  TLS_AUTO: 'TLSv1.2',
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};
const SAN_TYPES = ['SAN_TYPE_UNSPECIFIED', 'EMAIL', 'DNS', 'URI', 'IP_ADDRESS', 'OTHER_NAME'] as const;

/** null: plaintext. */
export function compileTransportSocket(where: Where, v: unknown): UpstreamTlsConfig | null {
  const f = 'transport_socket';
  const ts = obj(where, v, f);
  if (!ts) return null;
  const typed = obj(where, ts.typed_config, `${f}.typed_config`);
  const typeName = anyTypeName(typed);
  const name = str(where, ts.name, `${f}.name`) ?? '';
  if (typeName === RAW_BUFFER || (!typed && name === 'envoy.transport_sockets.raw_buffer')) return null;
  if (typeName !== UPSTREAM_TLS) where.reject(f, `transport socket ${typeName ?? name} is not supported (raw_buffer or UpstreamTlsContext only)`);
  return compileUpstreamTlsContext(where, typed!, `${f}.typed_config`);
}

function compileUpstreamTlsContext(where: Where, ctx: EnvoyJson, f: string): UpstreamTlsConfig {
  rejectNonEmpty(where, ctx, `${f}.`, {
    allow_renegotiation: 'TLS renegotiation is not supported',
    auto_host_sni: 'auto_host_sni is not supported; set sni',
    auto_sni_san_validation: 'auto_sni_san_validation is not supported; use match_typed_subject_alt_names',
  });
  // Sessions are resumed (each pool keeps its last session, as Envoy's default of 1 key); turning that off isn't offered.
  if (wrappedNum(where, ctx.max_session_keys, `${f}.max_session_keys`) === 0) where.reject(`${f}.max_session_keys`, 'disabling TLS session resumption is not supported');
  if (wrappedBool(where, ctx.enforce_rsa_key_usage, `${f}.enforce_rsa_key_usage`)) where.reject(`${f}.enforce_rsa_key_usage`, 'enforce_rsa_key_usage is not supported');
  const sni = str(where, ctx.sni, `${f}.sni`) || null;
  const common = obj(where, ctx.common_tls_context, `${f}.common_tls_context`) ?? {};
  const cf = `${f}.common_tls_context`;
  rejectNonEmpty(where, common, `${cf}.`, {
    tls_certificate_sds_secret_configs: 'SDS is not supported: give tls_certificates',
    tls_certificate_provider_instance: 'certificate providers are not supported: give tls_certificates',
    tls_certificate_certificate_provider: 'certificate providers are not supported: give tls_certificates',
    tls_certificate_certificate_provider_instance: 'certificate providers are not supported: give tls_certificates',
    validation_context_sds_secret_config: 'SDS is not supported: give validation_context',
    combined_validation_context: 'combined validation contexts (SDS) are not supported: give validation_context',
    validation_context_certificate_provider: 'certificate providers are not supported: give validation_context',
    validation_context_certificate_provider_instance: 'certificate providers are not supported: give validation_context',
    custom_handshaker: 'custom handshakers are not supported',
    key_log: 'TLS key logging is not supported',
  });
  const params = obj(where, common.tls_params, `${cf}.tls_params`);
  const pf = `${cf}.tls_params`;
  if (params) {
    rejectNonEmpty(where, params, `${pf}.`, {
      cipher_suites: 'cipher_suites is not supported (Node\'s default ciphers)',
      ecdh_curves: 'ecdh_curves is not supported (Node\'s default curves)',
      signature_algorithms: 'signature_algorithms is not supported',
    });
  }
  // Envoy's client defaults: TLS 1.2 at least and, unless raised, at most.
  const minVersion = NODE_VERSION[enumName(where, params?.tls_minimum_protocol_version, `${pf}.tls_minimum_protocol_version`, TLS_PROTOCOLS, 'TLS_AUTO')];
  const maxName = enumName(where, params?.tls_maximum_protocol_version, `${pf}.tls_maximum_protocol_version`, TLS_PROTOCOLS, 'TLS_AUTO');
  // An explicit minimum above the default maximum raises the maximum with it.
  const maxVersion = maxName === 'TLS_AUTO' && minVersion > NODE_VERSION.TLS_AUTO ? minVersion : NODE_VERSION[maxName];
  if (minVersion > maxVersion) where.reject(pf, `tls_minimum_protocol_version ${minVersion} is above tls_maximum_protocol_version ${maxVersion}`);
  const certs = list(where, common.tls_certificates, `${cf}.tls_certificates`);
  if (certs.length > 1) where.reject(`${cf}.tls_certificates`, 'at most one client certificate is supported');
  const validation = compileValidationContext(where, common.validation_context, `${cf}.validation_context`);
  const clientCertificate = certs.length === 1 ? compileTlsCertificate(where, certs[0], `${cf}.tls_certificates[0]`) : null;
  const alpnProtocols = list(where, common.alpn_protocols, `${cf}.alpn_protocols`).map((p, i) => str(where, p, `${cf}.alpn_protocols[${i}]`)!);
  const material = [ctx, validation?.trustedCa ?? null, clientCertificate];
  const config: UpstreamTlsConfig = {
    sni,
    alpnProtocols,
    minVersion,
    maxVersion,
    validation,
    clientCertificate,
    fingerprint: createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 16),
  };
  // Certificates that don't load are refused now (as Envoy does), not when a connection needs them.
  try {
    createSecureContext(secureContextOptions(config));
  } catch (err) {
    where.reject(cf, `invalid TLS material: ${(err as Error).message}`);
  }
  return config;
}

/**
 * The server-certificate checks, as Envoy's default validator makes them: the chain against trusted_ca
 * (or Node's bundled roots for system_root_certs), then SANs and pins when given. No validation_context
 * (Istio's SIMPLE without caCertificates) verifies nothing: any certificate is accepted.
 */
function compileValidationContext(where: Where, v: unknown, f: string): UpstreamTlsConfig['validation'] {
  const vc = obj(where, v, f);
  if (!vc) return null;
  rejectNonEmpty(where, vc, `${f}.`, {
    ca_certificate_provider_instance: 'certificate providers are not supported: give trusted_ca',
    watched_directory: 'watched_directory is not supported (trusted_ca is read when the cluster is compiled)',
    require_signed_certificate_timestamp: 'signed certificate timestamps are not supported',
    crl: 'certificate revocation lists are not supported',
    allow_expired_certificate: 'allow_expired_certificate is not supported',
    custom_validator_config: 'custom certificate validators are not supported',
    max_verify_depth: 'max_verify_depth is not supported',
  });
  const chain = enumName(where, vc.trust_chain_verification, `${f}.trust_chain_verification`, ['VERIFY_TRUST_CHAIN', 'ACCEPT_UNTRUSTED'], 'VERIFY_TRUST_CHAIN');
  if (chain === 'ACCEPT_UNTRUSTED') where.reject(`${f}.trust_chain_verification`, 'ACCEPT_UNTRUSTED is not supported');
  const trustedCa = vc.trusted_ca !== undefined && vc.trusted_ca !== null ? dataSource(where, vc.trusted_ca, `${f}.trusted_ca`) : null;
  if (trustedCa !== null) checkCertificates(where, trustedCa, `${f}.trusted_ca`);
  const systemRoots = isObject(vc.system_root_certs);
  const subjectAltNames = [
    ...list(where, vc.match_typed_subject_alt_names, `${f}.match_typed_subject_alt_names`).map((m, i) => typedSan(where, m, `${f}.match_typed_subject_alt_names[${i}]`)),
    // Deprecated, untyped: matched against every SAN of the certificate.
    ...list(where, vc.match_subject_alt_names, `${f}.match_subject_alt_names`).map((m, i) => san(where, null, m, `${f}.match_subject_alt_names[${i}]`)),
  ];
  const certificateHashes = list(where, vc.verify_certificate_hash, `${f}.verify_certificate_hash`).map((h, i) => {
    const hex = (str(where, h, `${f}.verify_certificate_hash[${i}]`) ?? '').replace(/:/g, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) where.reject(`${f}.verify_certificate_hash[${i}]`, `invalid SHA-256 hash ${JSON.stringify(h)}`);
    return hex;
  });
  const spkiHashes = list(where, vc.verify_certificate_spki, `${f}.verify_certificate_spki`).map((h, i) => {
    const b64 = str(where, h, `${f}.verify_certificate_spki[${i}]`) ?? '';
    if (Buffer.from(b64, 'base64').length !== 32) where.reject(`${f}.verify_certificate_spki[${i}]`, `invalid base64 SHA-256 hash ${JSON.stringify(h)}`);
    return b64;
  });
  if (trustedCa === null && !systemRoots) {
    // Envoy's own rule; pins without a CA (which Envoy allows) would need a check Node's TLS can't make.
    if (subjectAltNames.length > 0) where.reject(f, 'SAN-based verification of peer certificates without trusted CA is insecure and not allowed');
    if (certificateHashes.length + spkiHashes.length > 0) where.reject(f, 'certificate pinning (verify_certificate_hash / _spki) needs trusted_ca here');
    return null;
  }
  return { trustedCa, subjectAltNames, certificateHashes, spkiHashes };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A CA bundle must hold certificates that all parse (Node would silently skip what doesn't; Envoy refuses it). */
function checkCertificates(where: Where, pem: string, f: string): void {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  try {
    for (const b of blocks) new X509Certificate(b);
  } catch (err) {
    where.reject(f, `failed to load trusted CA certificates: ${(err as Error).message}`);
  }
  if (blocks.length === 0) where.reject(f, 'failed to load trusted CA certificates: no PEM certificate found');
}

function typedSan(where: Where, v: unknown, f: string): SanMatcher {
  const m = obj(where, v, f)!;
  const type = enumName(where, m.san_type, `${f}.san_type`, SAN_TYPES, 'SAN_TYPE_UNSPECIFIED');
  if (type === 'SAN_TYPE_UNSPECIFIED') where.reject(`${f}.san_type`, 'a SAN type is required');
  if (type === 'OTHER_NAME') where.reject(`${f}.san_type`, 'OTHER_NAME SANs are not supported');
  return san(where, type, m.matcher, `${f}.matcher`);
}

function san(where: Where, type: SanMatcher['type'], matcher: unknown, f: string): SanMatcher {
  const m = obj(where, matcher, f) ?? where.reject(f, 'a matcher is required');
  const exact = typeof m.exact === 'string' && !m.ignore_case ? m.exact : null;
  return { type, match: compileStringMatcher(where, m, f), exactDns: type === 'DNS' || type === null ? exact : null };
}

function compileTlsCertificate(where: Where, v: unknown, f: string): NonNullable<UpstreamTlsConfig['clientCertificate']> {
  const c = obj(where, v, f)!;
  rejectNonEmpty(where, c, `${f}.`, {
    pkcs12: 'PKCS#12 certificates are not supported: give certificate_chain and private_key',
    watched_directory: 'watched_directory is not supported',
    private_key_provider: 'private key providers are not supported',
    ocsp_staple: 'OCSP stapling is not supported',
    signed_certificate_timestamp: 'signed certificate timestamps are not supported',
  });
  const need = (field: string) => (c[field] !== undefined && c[field] !== null ? dataSource(where, c[field], `${f}.${field}`) : where.reject(`${f}.${field}`, `${field} is required`));
  const password = c.password !== undefined && c.password !== null ? dataSource(where, c.password, `${f}.password`) : null;
  return { certificateChain: need('certificate_chain'), privateKey: need('private_key'), password };
}

