/** ConnectionPoolSettings (Istio's validateConnectionPool). */
import type { ConnectionPoolSettings } from '../istio-types.js';
import { durationIsZero, validateDurationAtLeast1ms } from './duration.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function validateConnectionPool(pool: ConnectionPoolSettings | undefined, path: FieldPath, r: Reporter): void {
  if (!pool) return;
  if (!pool.http && !pool.tcp) {
    r.error(path, 'connection pool must have at least one field');
    return;
  }
  const nonNegative = (v: number | undefined, at: FieldPath, what: string) => {
    if (v !== undefined && v < 0) r.error(at, `${what} must be non-negative`);
  };
  const { http, tcp } = pool;
  if (http) {
    const at = [...path, 'http'];
    nonNegative(http.http1MaxPendingRequests, [...at, 'http1MaxPendingRequests'], 'http1 max pending requests');
    nonNegative(http.http2MaxRequests, [...at, 'http2MaxRequests'], 'http2 max requests');
    nonNegative(http.maxRequestsPerConnection, [...at, 'maxRequestsPerConnection'], 'max requests per connection');
    nonNegative(http.maxRetries, [...at, 'maxRetries'], 'max retries');
    nonNegative(http.maxConcurrentStreams, [...at, 'maxConcurrentStreams'], 'max concurrent streams');
    validateDurationAtLeast1ms(http.idleTimeout, [...at, 'idleTimeout'], r);
    if (http.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol) {
      r.error(at, 'use client protocol must not be true when H2UpgradePolicy is UPGRADE');
    }
  }
  if (tcp) {
    const at = [...path, 'tcp'];
    nonNegative(tcp.maxConnections, [...at, 'maxConnections'], 'max connections');
    validateDurationAtLeast1ms(tcp.connectTimeout, [...at, 'connectTimeout'], r);
    validateDurationAtLeast1ms(tcp.maxConnectionDuration, [...at, 'maxConnectionDuration'], r);
    // 0s disables the idle timeout.
    if (tcp.idleTimeout !== undefined && !durationIsZero(tcp.idleTimeout)) validateDurationAtLeast1ms(tcp.idleTimeout, [...at, 'idleTimeout'], r);
    validateDurationAtLeast1ms(tcp.tcpKeepalive?.time, [...at, 'tcpKeepalive', 'time'], r);
    validateDurationAtLeast1ms(tcp.tcpKeepalive?.interval, [...at, 'tcpKeepalive', 'interval'], r);
  }
}
