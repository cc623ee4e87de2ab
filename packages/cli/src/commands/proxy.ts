import { parseArgs } from 'node:util';
import { AdsClient, Sidecar, sidecarIdentity, toXdsNode, xdsNodeId, type SidecarFlags } from '@trellis/proxy';

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

/**
 * `trellis proxy`: the sidecar. Takes its identity from flags or TRELLIS_* env, gets its config from the
 * control plane over ADS, and serves until SIGINT/SIGTERM, draining in-flight requests on the way out.
 */
export async function proxy(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
  });
  const flags: Partial<SidecarFlags> = {};
  for (const [flag, key] of Object.entries(FLAGS)) if (values[flag] !== undefined) flags[key] = values[flag] as string;
  const identity = sidecarIdentity(process.env, flags);
  const log = (msg: string) => out.write(`${new Date().toISOString()} ${identity.podName} ${msg}\n`);

  const sidecar = new Sidecar({ podIp: identity.podIp, ports: identity.ports, log });
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
  log(`sidecar ${xdsNodeId(identity)}: outbound ${identity.podIp}:${identity.ports.outbound}, inbound ${identity.podIp}:${identity.ports.inbound}`);
  ads.start();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  ads.close();
  await sidecar.close();
  return 0;
}
