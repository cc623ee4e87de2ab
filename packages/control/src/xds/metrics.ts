import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SHORT_NAME, type ResourceKind } from '@trellis/envoy-api';

/** Istio's metric label for a type: cds, eds, lds, rds. */
export function metricType(kind: ResourceKind): string {
  return SHORT_NAME[kind].toLowerCase();
}

/**
 * The control plane's xDS metrics, under istiod's names (pilot/pkg/xds/monitoring.go,
 * pkg/xds/monitoring.go) so existing Istio dashboards and alerts read them. Registered on the given
 * registry, never prom-client's global one, so tests and several servers in one process don't collide.
 */
export class XdsMetrics {
  /** Connected ADS streams. */
  readonly connectedProxies: Gauge;
  /**
   * Responses sent, by type (cds/eds/lds/rds). As in istiod the same counter carries failures:
   * `<type>_senderr` when writing to the stream failed, `<type>_builderr` when a resource couldn't be built.
   */
  readonly pushes: Counter<'type'>;
  /** Seconds to generate and send one type to one proxy. */
  readonly pushTime: Histogram<'type'>;
  /** Seconds from the first push trigger of a debounce window until a proxy has been sent everything. */
  readonly convergenceTime: Histogram;
  /** Responses the proxies rejected (NACKs), by type. */
  readonly rejects: Counter<'type'>;
  /** Requests carrying a nonce that isn't the last one sent (ignored), by type. */
  readonly expiredNonces: Counter<'type'>;
  /** push() calls, by reason. */
  readonly pushTriggers: Counter<'type'>;
  /** Errors in the loaded config (files or objects rejected); set by whoever loads config. */
  readonly configErrors: Gauge;
  /** Warnings in the loaded config. */
  readonly configWarnings: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connectedProxies = new Gauge({
      name: 'pilot_xds',
      help: 'Number of endpoints connected to this pilot using XDS.',
      registers,
    });
    this.pushes = new Counter({
      name: 'pilot_xds_pushes',
      help: 'Pilot build and send errors for lds, rds, cds and eds.',
      labelNames: ['type'],
      registers,
    });
    this.pushTime = new Histogram({
      name: 'pilot_xds_push_time',
      help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.',
      labelNames: ['type'],
      buckets: [0.01, 0.1, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.convergenceTime = new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
      buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30],
      registers,
    });
    this.rejects = new Counter({
      name: 'pilot_total_xds_rejects',
      help: 'Total number of XDS responses from pilot rejected by proxy.',
      labelNames: ['type'],
      registers,
    });
    this.expiredNonces = new Counter({
      name: 'pilot_xds_expired_nonce',
      help: 'Total number of XDS requests with an expired nonce.',
      labelNames: ['type'],
      registers,
    });
    this.pushTriggers = new Counter({
      name: 'pilot_push_triggers',
      help: 'Total number of times a push was triggered, labeled by reason for the push.',
      labelNames: ['type'],
      registers,
    });
    this.configErrors = new Gauge({
      name: 'trellis_config_errors',
      help: 'Errors in the currently loaded mesh config (rejected files and objects).',
      registers,
    });
    this.configWarnings = new Gauge({
      name: 'trellis_config_warnings',
      help: 'Warnings in the currently loaded mesh config.',
      registers,
    });
  }

  /** Sets the config issue gauges from a list of issues (e.g. MeshConfig.issues). */
  setConfigIssues(issues: readonly { severity: 'error' | 'warning' }[]): void {
    this.configErrors.set(issues.filter((i) => i.severity === 'error').length);
    this.configWarnings.set(issues.filter((i) => i.severity === 'warning').length);
  }
}
