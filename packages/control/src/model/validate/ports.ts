/** Port numbers, port names and Istio's protocol names (pkg/config/protocol). */
import { isDNS1123Label } from './hosts.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function validatePort(port: number | undefined, path: FieldPath, r: Reporter): void {
  if (port === undefined) return;
  if (!(port >= 1 && port <= 65535)) r.error(path, `port number ${port} must be in the range 1..65535`);
}

export function validatePortName(name: string | undefined, path: FieldPath, r: Reporter): void {
  if (!isDNS1123Label(name ?? '')) r.error(path, `invalid port name: "${name ?? ''}"`);
}

export type Protocol =
  | 'TCP' | 'UDP' | 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TLS' | 'Mongo' | 'Redis' | 'MySQL';

const PROTOCOLS: Record<string, Protocol> = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
};

/** Istio parses protocol names ignoring case; undefined when unsupported. */
export function parseProtocol(s: string | undefined): Protocol | undefined {
  return PROTOCOLS[(s ?? '').toLowerCase()];
}

export function isHTTPProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

export function isTLSProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

export function isTCPProtocol(p: Protocol | undefined): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}
