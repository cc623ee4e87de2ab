import type { KubeServicePort } from '../model/kube-types.js';
import type { ServicePort } from '../model/istio-types.js';
import type { Protocol } from './types.js';

const KNOWN: Record<string, Protocol> = {
  http: 'HTTP',
  http2: 'HTTP2',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-WEB',
  https: 'HTTPS',
  tls: 'TLS',
  tcp: 'TCP',
  mongo: 'MONGO',
  redis: 'REDIS',
  mysql: 'MYSQL',
};

/** Istio's protocol.Parse: a protocol name, case-insensitive; UNKNOWN when it isn't one. */
export function parseProtocol(name: string | undefined): Protocol {
  return KNOWN[(name ?? '').toLowerCase()] ?? 'UNKNOWN';
}

/**
 * Istio's rule for a name that may carry a protocol: `grpc-web` first (it contains the separator), then the
 * part before the first `-`, then the whole name.
 */
export function protocolFromPortName(name: string | undefined): Protocol {
  const lower = (name ?? '').toLowerCase();
  if (lower.startsWith('grpc-web')) return 'GRPC-WEB';
  const dash = lower.indexOf('-');
  return parseProtocol(dash >= 0 ? lower.slice(0, dash) : lower);
}

/** Kubernetes' standard appProtocol values, as Istio maps them. */
const KUBE_APP_PROTOCOLS: Record<string, Protocol> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

/** Protocol of a Kubernetes Service port: appProtocol, else the port name's prefix (Istio's ConvertProtocol). */
export function kubePortProtocol(port: KubeServicePort): Protocol {
  if (port.appProtocol) return KUBE_APP_PROTOCOLS[port.appProtocol] ?? protocolFromPortName(port.appProtocol);
  return protocolFromPortName(port.name);
}

/** Protocol of a ServiceEntry port: its `protocol` field, as Istio reads it. */
export function serviceEntryPortProtocol(port: ServicePort): Protocol {
  return parseProtocol(port.protocol);
}

/** Ports the HTTP connection manager routes: HTTP family, plus UNKNOWN, which Istio's sniffing treats as HTTP for HTTP apps. */
export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB' || p === 'UNKNOWN';
}

/** Ports whose upstream connections speak HTTP/2 (Istio's IsHTTP2). */
export function isHttp2Protocol(p: Protocol): boolean {
  return p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB';
}
