/** TrafficPolicy, at the top of a DestinationRule, in a subset, and per port. */
import type { TrafficPolicy } from '../istio-types.js';
import { validateClientTLS } from './client-tls.js';
import { validateConnectionPool } from './connection-pool.js';
import { each } from './context.js';
import { isIPAddress, validateFQDN } from './hosts.js';
import { validateLoadBalancer } from './load-balancer.js';
import { validateOutlierDetection } from './outlier-detection.js';
import type { FieldPath } from './path.js';
import { validatePort } from './ports.js';
import type { Reporter } from './reporter.js';

export function validateTrafficPolicy(tp: TrafficPolicy | undefined, path: FieldPath, r: Reporter): void {
  if (!tp) return;
  const { loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol } = tp;
  if (!loadBalancer && !connectionPool && !outlierDetection && !tls && !portLevelSettings && !tunnel && !proxyProtocol && !tp.retryBudget) {
    r.error(path, 'traffic policy must have at least one field');
    return;
  }
  if (tunnel && proxyProtocol) {
    r.error(path, 'tunnel and proxyProtocol must not be set together');
    return;
  }
  validateOutlierDetection(outlierDetection, [...path, 'outlierDetection'], r);
  validateConnectionPool(connectionPool, [...path, 'connectionPool'], r);
  validateLoadBalancer(loadBalancer, outlierDetection, [...path, 'loadBalancer'], r);
  validateClientTLS(tls, [...path, 'tls'], r);
  each(portLevelSettings, [...path, 'portLevelSettings'], (p, at) => {
    if (!p.port) r.error([...at, 'port'], 'portTrafficPolicy must have valid port');
    else validatePort(p.port.number ?? 0, [...at, 'port', 'number'], r);
    if (!p.outlierDetection && !p.connectionPool && !p.loadBalancer && !p.tls) {
      r.error(at, 'port traffic policy must have at least one field');
      return;
    }
    validateOutlierDetection(p.outlierDetection, [...at, 'outlierDetection'], r);
    validateConnectionPool(p.connectionPool, [...at, 'connectionPool'], r);
    validateLoadBalancer(p.loadBalancer, p.outlierDetection, [...at, 'loadBalancer'], r);
    validateClientTLS(p.tls, [...at, 'tls'], r);
  });
  if (tp.retryBudget?.percent !== undefined && (tp.retryBudget.percent < 0 || tp.retryBudget.percent > 100)) {
    r.error([...path, 'retryBudget', 'percent'], `retry budget percent ${tp.retryBudget.percent} is not in range [0.0, 100.0]`);
  }
  if (proxyProtocol) r.warn([...path, 'proxyProtocol'], 'proxyProtocol is not supported yet: upstream connections carry no PROXY header');
  if (tunnel) {
    r.warn([...path, 'tunnel'], 'tunnel is not supported yet: connections go to the destination directly');
    const at = [...path, 'tunnel'];
    if (tunnel.protocol && tunnel.protocol !== 'CONNECT' && tunnel.protocol !== 'POST') r.error([...at, 'protocol'], 'tunnel protocol must be "CONNECT" or "POST"');
    if (!isIPAddress(tunnel.targetHost ?? '') && validateFQDN(tunnel.targetHost ?? '')) r.error([...at, 'targetHost'], 'tunnel target host must be valid FQDN or IP address');
    validatePort(tunnel.targetPort ?? 0, [...at, 'targetPort'], r);
  }
}
