import { hostname } from 'node:os';
import { jsonToStruct, type Node } from '@trellis/envoy-api';
import {
  IdentityError,
  parseAppPorts,
  parseHostPort,
  parseIp,
  parseLabels,
  parsePort,
  type AppPort,
} from './parse.js';

export { IdentityError, type AppPort } from './parse.js';

/** The sidecar's own ports (Istio's numbers by default). Tests override them to run several sidecars on one IP. */
export interface ProxyPorts {
  /** Outbound listener: app -> mesh. */
  outbound: number;
  /** Inbound listener: mesh -> app. */
  inbound: number;
  /** Envoy-style admin (/config_dump, /clusters). */
  admin: number;
  /** /healthz/ready. */
  health: number;
  /** Prometheus /stats/prometheus. */
  metrics: number;
}

export const DEFAULT_PROXY_PORTS: Readonly<ProxyPorts> = Object.freeze({
  outbound: 15001,
  inbound: 15006,
  admin: 15000,
  health: 15021,
  metrics: 15090,
});

export const DEFAULT_CONTROL_PLANE_PORT = 15010;

/** Who this sidecar is and where it finds its control plane: everything it needs before its first xDS request. */
export interface SidecarIdentity {
  /** The control plane's xDS address, `host:port`. */
  controlPlane: string;
  /** `sidecar` next to an app, `router` for a gateway (Istio's node types). */
  type: 'sidecar' | 'router';
  namespace: string;
  podName: string;
  workloadName: string;
  labels: Readonly<Record<string, string>>;
  podIp: string;
  appPorts: readonly AppPort[];
  ports: Readonly<ProxyPorts>;
}

/** Command-line settings; each overrides its environment variable. */
export interface SidecarFlags {
  controlPlane: string;
  proxyType: string;
  namespace: string;
  podName: string;
  workload: string;
  labels: string | Readonly<Record<string, string>>;
  podIp: string;
  appPorts: string;
  outboundPort: string | number;
  inboundPort: string | number;
  adminPort: string | number;
  healthPort: string | number;
  metricsPort: string | number;
}

/** Where each setting may come from, first match wins: the flag, then these variables in order. */
const SOURCES: Record<keyof SidecarFlags, { flag: string; env: readonly string[] }> = {
  controlPlane: { flag: '--control-plane', env: ['TRELLIS_CONTROL_PLANE'] },
  proxyType: { flag: '--proxy-type', env: ['TRELLIS_PROXY_TYPE'] },
  namespace: { flag: '--namespace', env: ['TRELLIS_NAMESPACE', 'POD_NAMESPACE'] },
  podName: { flag: '--pod-name', env: ['TRELLIS_POD_NAME', 'POD_NAME', 'HOSTNAME'] },
  workload: { flag: '--workload', env: ['TRELLIS_WORKLOAD'] },
  labels: { flag: '--labels', env: ['TRELLIS_LABELS'] },
  podIp: { flag: '--pod-ip', env: ['TRELLIS_POD_IP', 'POD_IP'] },
  appPorts: { flag: '--app-ports', env: ['TRELLIS_APP_PORTS'] },
  outboundPort: { flag: '--outbound-port', env: ['TRELLIS_OUTBOUND_PORT'] },
  inboundPort: { flag: '--inbound-port', env: ['TRELLIS_INBOUND_PORT'] },
  adminPort: { flag: '--admin-port', env: ['TRELLIS_ADMIN_PORT'] },
  healthPort: { flag: '--health-port', env: ['TRELLIS_HEALTH_PORT'] },
  metricsPort: { flag: '--metrics-port', env: ['TRELLIS_METRICS_PORT'] },
};

interface Setting {
  text: string;
  /** The flag or variable it came from, for error messages. */
  where: string;
}

/**
 * Resolves the sidecar's identity from flags and `TRELLIS_*` (or Kubernetes downward-API) variables.
 * Flags win; an empty value counts as unset. Throws IdentityError naming the offending flag or variable.
 */
export function sidecarIdentity(env: NodeJS.ProcessEnv, flags: Partial<SidecarFlags> = {}): SidecarIdentity {
  const get = (key: keyof SidecarFlags): Setting | undefined => setting(key, env, flags);

  const typeSetting = get('proxyType');
  const type = typeSetting ? proxyType(typeSetting) : 'sidecar';
  const labelSetting = get('labels');
  const labels = labelSetting ? parseLabels(labelSetting.text, labelSetting.where) : {};
  const podName = get('podName')?.text.trim() || hostname();
  const identity: SidecarIdentity = {
    controlPlane: withDefault(get('controlPlane'), `127.0.0.1:${DEFAULT_CONTROL_PLANE_PORT}`, (s) =>
      parseHostPort(s.text, DEFAULT_CONTROL_PLANE_PORT, s.where),
    ),
    type,
    namespace: withDefault(get('namespace'), 'default', (s) => dnsLabel(s)),
    podName,
    // Istio's injector sets the workload (Deployment) name; without it, the app label is the next best name.
    workloadName: get('workload')?.text.trim() || labels.app || podName,
    labels,
    podIp: withDefault(get('podIp'), '127.0.0.1', (s) => parseIp(s.text, s.where)),
    appPorts: withDefault(get('appPorts'), [], (s) => parseAppPorts(s.text, s.where)),
    ports: proxyPorts(get),
  };
  checkPortClashes(identity, get('appPorts'));
  return identity;
}

function setting(key: keyof SidecarFlags, env: NodeJS.ProcessEnv, flags: Partial<SidecarFlags>): Setting | undefined {
  const { flag, env: vars } = SOURCES[key];
  const fromFlag = flags[key];
  if (fromFlag !== undefined && fromFlag !== '') {
    // A labels object from code is checked like the JSON form.
    return { text: typeof fromFlag === 'object' ? JSON.stringify(fromFlag) : String(fromFlag), where: flag };
  }
  for (const name of vars) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { text: value, where: name };
  }
  return undefined;
}

function withDefault<T>(s: Setting | undefined, fallback: T, parse: (s: Setting) => T): T {
  return s ? parse(s) : fallback;
}

function proxyType(s: Setting): 'sidecar' | 'router' {
  const t = s.text.trim();
  if (t === 'sidecar' || t === 'router') return t;
  throw new IdentityError(s.where, s.text, 'proxy type must be "sidecar" or "router"');
}

/** Namespaces are DNS labels (RFC 1123), as Kubernetes requires. */
function dnsLabel(s: Setting): string {
  const ns = s.text.trim();
  if (ns.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) {
    throw new IdentityError(s.where, s.text, 'a namespace must be a DNS label: lowercase letters, digits and -, at most 63');
  }
  return ns;
}

const PORT_SETTINGS: Record<keyof ProxyPorts, keyof SidecarFlags> = {
  outbound: 'outboundPort',
  inbound: 'inboundPort',
  admin: 'adminPort',
  health: 'healthPort',
  metrics: 'metricsPort',
};

function proxyPorts(get: (key: keyof SidecarFlags) => Setting | undefined): ProxyPorts {
  const ports = { ...DEFAULT_PROXY_PORTS };
  const seen = new Map<number, string>();
  for (const [which, key] of Object.entries(PORT_SETTINGS) as [keyof ProxyPorts, keyof SidecarFlags][]) {
    const s = get(key);
    if (s) ports[which] = parsePort(s.text, s.where);
    const other = seen.get(ports[which]);
    if (other) {
      throw new IdentityError(s?.where ?? SOURCES[key].env[0]!, String(ports[which]), `the ${which} port is also the ${other} port`);
    }
    seen.set(ports[which], which);
  }
  return ports;
}

/** On one IP, an app port can't also be one of the sidecar's own ports. */
function checkPortClashes(identity: SidecarIdentity, appPorts: Setting | undefined): void {
  for (const p of identity.appPorts) {
    const clash = (Object.keys(identity.ports) as (keyof ProxyPorts)[]).find((k) => identity.ports[k] === p.containerPort);
    if (clash && appPorts) {
      throw new IdentityError(appPorts.where, appPorts.text, `app port ${p.containerPort} is the sidecar's ${clash} port`);
    }
  }
}

/** Istio's node id: `TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local`. */
export function xdsNodeId(identity: SidecarIdentity): string {
  const { type, podIp, podName, namespace } = identity;
  return `${type}~${podIp}~${podName}.${namespace}~${namespace}.svc.cluster.local`;
}

/**
 * The xDS Node the sidecar sends on its first request, with Istio's metadata keys: the control plane reads
 * the pod's namespace, name, labels, IPs, workload and container ports from them. POD_PORTS is a JSON string
 * and INSTANCE_IPS a comma-separated string, exactly as istio-agent writes them.
 */
export function toXdsNode(identity: SidecarIdentity): Node {
  const { namespace, podName, workloadName, labels, podIp, appPorts, ports } = identity;
  const metadata: Record<string, unknown> = {
    NAMESPACE: namespace,
    NAME: podName,
    LABELS: { ...labels },
    INSTANCE_IPS: podIp,
    WORKLOAD_NAME: workloadName,
    POD_PORTS: JSON.stringify(appPorts.map((p) => ({ ...p }))),
    ENVOY_STATUS_PORT: ports.health,
    ENVOY_PROMETHEUS_PORT: ports.metrics,
  };
  if (identity.type === 'sidecar') {
    // Not Istio keys: with Trellis' local mode several sidecars may share an IP, so the control plane
    // must be told where this one's listeners are. A gateway (router) has no capture listeners.
    metadata.TRELLIS_INBOUND_PORT = ports.inbound;
    metadata.TRELLIS_OUTBOUND_PORT = ports.outbound;
  }
  return {
    id: xdsNodeId(identity),
    cluster: `${workloadName}.${namespace}`,
    user_agent_name: 'trellis',
    metadata: jsonToStruct(metadata),
  };
}
