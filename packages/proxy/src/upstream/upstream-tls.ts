import { createHash } from 'node:crypto';
import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContextOptions } from 'node:tls';
import type { SanMatcher, UpstreamTlsConfig } from '../config/compiled-config.js';

/**
 * Node TLS client options for a cluster's UpstreamTlsContext, made once per cluster config (one secure
 * context: the PEMs are parsed once, not per connection) and shared by its pools. Verification follows
 * Envoy: without a validation context nothing is checked (Node's hostname check included); with one, the
 * chain is checked against the trusted CA (Node's bundled roots for `system_root_certs`) and then the SAN
 * matchers and pins, never the host name itself (Envoy doesn't match the certificate against the SNI
 * either: that is what the SAN matchers are for).
 */
export function tlsConnectOptions(tls: UpstreamTlsConfig): ConnectionOptions {
  let options = optionsByConfig.get(tls);
  if (!options) {
    const v = tls.validation;
    options = {
      ...(tls.sni !== null ? { servername: tls.sni } : {}),
      secureContext: createSecureContext(secureContextOptions(tls)),
      rejectUnauthorized: v !== null,
      checkServerIdentity: v === null ? acceptAny : (_host: string, cert: PeerCertificate) => verifyPeer(v, cert),
    };
    optionsByConfig.set(tls, options);
  }
  return options;
}

const optionsByConfig = new WeakMap<UpstreamTlsConfig, ConnectionOptions>();

/** The certificates and versions of a secure context (the config compiler checks they load). */
export function secureContextOptions(tls: UpstreamTlsConfig): SecureContextOptions {
  const cc = tls.clientCertificate;
  return {
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ...(tls.validation?.trustedCa ? { ca: tls.validation.trustedCa } : {}),
    ...(cc ? { cert: cc.certificateChain, key: cc.privateKey, ...(cc.password !== null ? { passphrase: cc.password } : {}) } : {}),
  };
}

function acceptAny(): undefined {
  return undefined;
}

type Validation = NonNullable<UpstreamTlsConfig['validation']>;

/** Envoy's checks after the chain: a SAN matcher (if any) must match, and a pin (if any) must. */
export function verifyPeer(v: Validation, cert: PeerCertificate): Error | undefined {
  if (v.subjectAltNames.length > 0) {
    const sans = parseSubjectAltNames(cert.subjectaltname ?? '');
    if (!v.subjectAltNames.some((m) => sans.some((s) => sanMatches(m, s)))) {
      return tlsError('ERR_TLS_CERT_SAN_MISMATCH', `upstream certificate SANs [${cert.subjectaltname ?? ''}] match none of the configured subject alt names`);
    }
  }
  if (v.certificateHashes.length + v.spkiHashes.length > 0) {
    const hash = createHash('sha256').update(cert.raw).digest('hex');
    const spki = cert.pubkey ? createHash('sha256').update(cert.pubkey).digest('base64') : null;
    if (!v.certificateHashes.includes(hash) && (spki === null || !v.spkiHashes.includes(spki))) {
      return tlsError('ERR_TLS_CERT_PIN_MISMATCH', 'upstream certificate matches none of the configured hashes');
    }
  }
  return undefined;
}

function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export interface SubjectAltName {
  readonly type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS' | 'OTHER';
  readonly value: string;
}

const SAN_TYPE: Record<string, SubjectAltName['type']> = { DNS: 'DNS', URI: 'URI', email: 'EMAIL', 'IP Address': 'IP_ADDRESS' };

/**
 * Node's `subjectaltname` (`DNS:a.example, IP Address:10.0.0.1, URI:spiffe://...`; values with special
 * characters are JSON-quoted) as typed entries.
 */
export function parseSubjectAltNames(s: string): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = SAN_TYPE[s.slice(i, colon)] ?? 'OTHER';
    let value: string;
    let end: number;
    if (s[colon + 1] === '"') {
      // A JSON string: find its closing quote (skipping escapes).
      end = colon + 2;
      while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
      value = JSON.parse(s.slice(colon + 1, end + 1)) as string;
      end++;
    } else {
      end = s.indexOf(', ', colon);
      if (end < 0) end = s.length;
      value = s.slice(colon + 1, end);
    }
    out.push({ type, value });
    i = s.startsWith(', ', end) ? end + 2 : end + 1;
  }
  return out;
}

function sanMatches(m: SanMatcher, san: SubjectAltName): boolean {
  if (m.type !== null && m.type !== san.type) return false;
  if (san.type === 'DNS' && m.exactDns !== null) return dnsNameMatch(m.exactDns, san.value);
  return m.match(san.value);
}

/** Envoy's dnsNameMatch: the name equals the SAN, or the SAN is `*.rest` and the name is one label plus `.rest`. */
export function dnsNameMatch(name: string, san: string): boolean {
  const n = name.toLowerCase();
  const pattern = san.toLowerCase();
  if (n === pattern) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = n.indexOf('.');
  return dot > 0 && n.slice(dot) === pattern.slice(1);
}
