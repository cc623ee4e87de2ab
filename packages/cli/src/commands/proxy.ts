import { parseArgs } from 'node:util';
import { AdsClient, Sidecar, sidecarIdentity, toXdsNode, tracingOptions, xdsNodeId, type SidecarFlags } from '@trellis/proxy';

/** Flag name (as typed) -> SidecarFlags key; every flag also has a TRELLIS_* variable (see bootstrap/identity.ts). */
const FLAGS: Record<string, keyof SidecarFlags> = {
  'control-plane': 'controlPlane',
  'proxy-type': 'proxyType',
  namespace: 'namespace',
  'pod-name': 'podName',
  workload: 'workload',
  labels: 'labels',
  'pod-ip': 'podIp',
  'app-ports': 'appPorts',
  'outbound-port': 'outboundPort',
  'inbound-port': 'inboundPort',
  'admin-port': 'adminPort',
  'health-port': 'healthPort',
  'metrics-port': 'metricsPort',
};

/** Where a gateway serves a port below 1024 it may not bind: PORT + 8000 (80 -> 8080, 443 -> 8443). */
export const GATEWAY_PORT_OFFSET = 8000;

/**
 * `trellis proxy`: the sidecar (or with --gateway, an ingress gateway). Takes its identity from flags or TRELLIS_* env, gets its config from the
 * control plane over ADS, and serves until SIGINT/SIGTERM, draining in-flight requests on the way out.
 */
export async function proxy(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...(Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])) as Record<string, { type: 'string' }>),
      // Tracing: sampling percent (TRELLIS_TRACE_SAMPLING, default 1) and OTLP/HTTP collector URL or `off` (TRELLIS_TRACE_COLLECTOR).
      'trace-sampling': { type: 'string' as const },
      'trace-collector': { type: 'string' as const },
      // Access log: a file, or `-` for stdout (TRELLIS_ACCESS_LOG); off by default.
      'access-log': { type: 'string' as const },
      // Istio's request metrics: `on` (default) or `off` (TRELLIS_METRICS).
      metrics: { type: 'string' as const },
      // A gateway (Istio's router): no capture listeners, the Gateway servers' ports instead (= --proxy-type router).
      gateway: { type: 'boolean' as const },
    },
  });
  const flags: Partial<SidecarFlags> = {};
  for (const [flag, key] of Object.entries(FLAGS)) if ((values as Record<string, unknown>)[flag] !== undefined) flags[key] = (values as Record<string, string>)[flag]!;
  if (values.gateway) flags.proxyType = 'router';
  const identity = sidecarIdentity(process.env, flags);
  const gateway = identity.type === 'router';
  const tracing = tracingOptions(process.env, { traceSampling: values['trace-sampling'] as string | undefined, traceCollector: values['trace-collector'] as string | undefined }, identity);
  const log = (msg: string) => out.write(`${new Date().toISOString()} ${identity.podName} ${msg}\n`);

  const accessLogPath = (values['access-log'] as string | undefined) || process.env.TRELLIS_ACCESS_LOG || undefined;
  const metricsOff = ((values.metrics as string | undefined) ?? process.env.TRELLIS_METRICS ?? 'on') === 'off';
  const telemetry = { workload: identity, istioMetrics: !metricsOff, ...(accessLogPath ? { accessLogPath } : {}) };
  const sidecar = new Sidecar({
    podIp: identity.podIp,
    ports: identity.ports,
    log,
    telemetry,
    ...(tracing ? { tracing } : {}),
    // An unprivileged gateway can't bind port 80 or 443: it serves them at 8080 and 8443 (logged).
    ...(gateway ? { privilegedPortOffset: GATEWAY_PORT_OFFSET } : {}),
  });
  if (accessLogPath) log(`access log: ${accessLogPath === '-' ? 'stdout' : accessLogPath}`);
  if (metricsOff) log('Istio request metrics: off');
  log(tracing ? `tracing: ${tracing.samplingPercent}% sampled, spans to ${tracing.collectorUrl} as ${tracing.serviceName}` : 'tracing: off');
  await sidecar.start();
  const ads = new AdsClient({
    server: identity.controlPlane,
    node: toXdsNode(identity),
    // Validation and application are one compile: what the sidecar accepts is exactly what it runs.
    validate: (candidate) => sidecar.apply(candidate),
    onUpdate: () => {},
    onReady: () => {
      sidecar.setReady();
      log('ready: first full config applied');
    },
    onConnection: (up) => log(up ? `connected to ${identity.controlPlane}` : 'control plane unreachable; serving the last config'),
    log,
  });
  log(
    gateway
      ? `gateway ${xdsNodeId(identity)}: listeners on ${identity.podIp} at the Gateway servers' ports (admin ${identity.podIp}:${identity.ports.admin}/listeners)`
      : `sidecar ${xdsNodeId(identity)}: outbound ${identity.podIp}:${identity.ports.outbound}, inbound ${identity.podIp}:${identity.ports.inbound}`,
  );
  ads.start();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  ads.close();
  await sidecar.close();
  return 0;
}
