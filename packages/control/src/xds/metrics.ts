import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SHORT_NAME, type ResourceKind } from '@trellis/envoy-api';

/** What the mesh-size gauges report. */
export interface MeshCounts {
  services: number;
  virtualServices: number;
}

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
  /**
   * Istio's per-type reject gauges (`pilot_xds_cds_reject`, `…_eds_…`, `…_lds_…`, `…_rds_…`): 1 for each
   * proxy (`node`) whose last response of that type it rejected, with the NACK's gRPC code (`err`). A proxy's
   * series go when it disconnects, so the cardinality follows the connected proxies.
   */
  readonly typeRejects: Readonly<Record<string, Gauge<'node' | 'err'>>>;
  /** Resources that failed to generate or encode (istiod: pilot_total_xds_internal_errors). */
  readonly internalErrors: Counter;
  /** Bytes of the resources in one response, by type. */
  readonly configSize: Histogram<'type'>;
  /** Requests carrying a nonce that isn't the last one sent (ignored), by type. */
  readonly expiredNonces: Counter<'type'>;
  /** push() calls, by reason. */
  readonly pushTriggers: Counter<'type'>;
  /** Errors in the loaded config (files or objects rejected); set by whoever loads config. */
  readonly configErrors: Gauge;
  /** Warnings in the loaded config. */
  readonly configWarnings: Gauge;

  /**
   * `mesh`, when given, is read at scrape time for istiod's config-size gauges (pilot_services,
   * pilot_virt_services); undefined from it means nothing is loaded yet.
   */
  constructor(registry: Registry, mesh?: () => MeshCounts | undefined) {
    const registers = [registry];
    if (mesh) {
      const gauge = (name: string, help: string, pick: (c: MeshCounts) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect(this: Gauge) {
            const counts = mesh();
            this.set(counts ? pick(counts) : 0);
          },
        });
      gauge('pilot_services', 'Total services known to pilot.', (c) => c.services);
      gauge('pilot_virt_services', 'Total virtual services known to pilot.', (c) => c.virtualServices);
    }
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
    this.typeRejects = Object.fromEntries(
      ['cds', 'eds', 'lds', 'rds'].map((t) => [
        t,
        new Gauge({ name: `pilot_xds_${t}_reject`, help: `Pilot rejected ${t.toUpperCase()} configs.`, labelNames: ['node', 'err'], registers }),
      ]),
    );
    this.internalErrors = new Counter({
      name: 'pilot_total_xds_internal_errors',
      help: 'Total number of internal XDS errors in pilot.',
      registers,
    });
    this.configSize = new Histogram({
      name: 'pilot_xds_config_size_bytes',
      help: 'Distribution of configuration sizes pushed to clients.',
      labelNames: ['type'],
      // istiod's buckets: 1 B to 40 MB.
      buckets: [1, 10000, 1000000, 4000000, 10000000, 40000000],
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

  /** A NACK from `node` for `type` (cds/eds/lds/rds) with gRPC status `code`. */
  recordReject(type: string, node: string, code: number): void {
    this.rejects.inc({ type });
    this.typeRejects[type]?.set({ node, err: grpcCodeName(code) }, 1);
  }

  /** An ACK from `node` for `type`: its reject series for that type is over. */
  clearRejects(type: string, node: string): void {
    const g = this.typeRejects[type];
    if (g) for (const err of GRPC_CODE_NAMES) g.remove({ node, err });
  }

  /** A proxy went away: its reject series go with it. */
  forgetNode(node: string): void {
    for (const t of Object.keys(this.typeRejects)) this.clearRejects(t, node);
  }

  /** Sets the config issue gauges from a list of issues (e.g. MeshConfig.issues). */
  setConfigIssues(issues: readonly { severity: 'error' | 'warning' }[]): void {
    this.configErrors.set(issues.filter((i) => i.severity === 'error').length);
    this.configWarnings.set(issues.filter((i) => i.severity === 'warning').length);
  }
}

/** gRPC status code names as Go's codes.Code prints them (what istiod's `err` label holds). */
const GRPC_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
] as const;

export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `Code(${code})`;
}
