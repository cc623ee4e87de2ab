import type { EnvoyJson } from '@trellis/envoy-api';
import type { ServerTLSSettings } from '../../model/istio-types.js';
import { secretValue } from '../../model/validate/secret.js';
import { TRANSPORT_SOCKET_TLS } from '../names.js';
import type { TranslateInput } from '../types.js';

export const DOWNSTREAM_TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
/** Istio's ALPN for HTTPS gateway servers: HTTP/2 first, then HTTP/1.1. */
export const GATEWAY_ALPN = ['h2', 'http/1.1'];

/** Istio's TLS versions -> Envoy's TlsParameters.TlsProtocol. */
const TLS_VERSIONS: Record<string, string> = {
  TLS_AUTO: 'TLS_AUTO',
  TLSV1_0: 'TLSv1_0',
  TLSV1_1: 'TLSv1_1',
  TLSV1_2: 'TLSv1_2',
  TLSV1_3: 'TLSv1_3',
};

interface KeyMaterial {
  cert: EnvoyJson;
  key: EnvoyJson;
  ca?: EnvoyJson;
}

/**
 * `credentialName` names a Kubernetes Secret in the gateway proxy's namespace (Istio's rule): a
 * kubernetes.io/tls Secret's `tls.crt`/`tls.key`, with `ca.crt` (or the `NAME-cacert` Secret) for client
 * verification. Carried inline, as PEM text: no SDS round trip.
 */
function fromSecret(input: TranslateInput, name: string): KeyMaterial | undefined {
  const find = (n: string) => input.config.secrets.find((s) => s.metadata.name === n && s.metadata.namespace === input.proxy.namespace);
  const secret = find(name);
  const cert = secretValue(secret?.spec, 'tls.crt');
  const key = secretValue(secret?.spec, 'tls.key');
  if (cert === undefined || key === undefined) return undefined;
  const ca = secretValue(secret?.spec, 'ca.crt') ?? secretValue(find(`${name}-cacert`)?.spec, 'ca.crt') ?? secretValue(find(`${name}-cacert`)?.spec, 'cacert');
  return { cert: { inline_string: cert }, key: { inline_string: key }, ...(ca !== undefined ? { ca: { inline_string: ca } } : {}) };
}

/** `serverCertificate`/`privateKey`/`caCertificates` are files on the gateway's host: Envoy reads them there. */
function fromFiles(tls: ServerTLSSettings): KeyMaterial | undefined {
  if (!tls.serverCertificate || !tls.privateKey) return undefined;
  return {
    cert: { filename: tls.serverCertificate },
    key: { filename: tls.privateKey },
    ...(tls.caCertificates ? { ca: { filename: tls.caCertificates } } : {}),
  };
}

/**
 * The transport socket terminating a server's TLS (Istio's buildGatewayListenerTLSContext), or undefined
 * when its certificate can't be found (the server is then not served, rather than served without TLS).
 */
export function gatewayTransportSocket(input: TranslateInput, tls: ServerTLSSettings): EnvoyJson | undefined {
  const material = tls.credentialName ? fromSecret(input, tls.credentialName) : fromFiles(tls);
  if (!material) return undefined;
  const mutual = tls.mode === 'MUTUAL' || tls.mode === 'OPTIONAL_MUTUAL';
  if (mutual && !material.ca) return undefined;
  const common: EnvoyJson = {
    tls_certificates: [{ certificate_chain: material.cert, private_key: material.key }],
    alpn_protocols: GATEWAY_ALPN,
    tls_params: {
      tls_minimum_protocol_version: TLS_VERSIONS[tls.minProtocolVersion ?? ''] ?? 'TLSv1_2',
      ...(tls.maxProtocolVersion && TLS_VERSIONS[tls.maxProtocolVersion] ? { tls_maximum_protocol_version: TLS_VERSIONS[tls.maxProtocolVersion] } : {}),
      ...(tls.cipherSuites?.length ? { cipher_suites: tls.cipherSuites } : {}),
    },
  };
  if (mutual) {
    common.validation_context = {
      trusted_ca: material.ca,
      ...(tls.subjectAltNames?.length ? { match_typed_subject_alt_names: tls.subjectAltNames.map((san) => ({ san_type: 'DNS', matcher: { exact: san } })) } : {}),
    };
  }
  return {
    name: TRANSPORT_SOCKET_TLS,
    typed_config: {
      '@type': DOWNSTREAM_TLS_CONTEXT_TYPE,
      common_tls_context: common,
      require_client_certificate: { value: tls.mode === 'MUTUAL' },
    },
  };
}
