import type { Labels } from '../model/istio-types.js';
import type { Container, ContainerPort, PodSpec } from '../model/kube-types.js';
import {
  INJECTION_STATUS_ANNOTATION,
  SIDECAR_CONTAINER_NAME,
  injectionDecision,
  type PodMetaForPolicy,
} from './policy.js';

/** A Kubernetes EnvVar: a literal value or a downward-API reference. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } } | Record<string, unknown>;
}

/** The container Trellis adds: a Kubernetes Container plus the probe the kubelet (or local mode) checks. */
export type SidecarContainer = Container & {
  env: EnvVar[];
  readinessProbe: { httpGet: { path: string; port: number }; periodSeconds: number; timeoutSeconds: number; failureThreshold: number };
};

/** The sidecar's ports on the pod IP (Istio's numbers). */
export const SIDECAR_PORTS = Object.freeze({ outbound: 15001, inbound: 15006, admin: 15000, health: 15021, metrics: 15090 });

export interface InjectablePod {
  metadata: PodMetaForPolicy & {
    name?: string;
    generateName?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: PodSpec & { hostNetwork?: boolean };
}

export interface InjectionContext {
  /** Labels of the pod's namespace (`istio-injection`). */
  namespaceLabels: Labels;
  /** The control plane's xDS address, `host:port`. */
  controlPlane: string;
  /** What runs the sidecar, e.g. `['node', '--single-threaded-gc', '--v8-pool-size=1', '/opt/trellis/bin/trellis.js', 'proxy']` (@trellis/proxy's SIDECAR_NODE_FLAGS). */
  proxyCommand: string[];
  /** The sidecar image (Kubernetes needs one; local mode ignores it). */
  image?: string;
  /** The Deployment (or other owner) name; derived from the pod's owner or generateName when absent. */
  workloadName?: string;
  /**
   * `local` (default): app containers get HTTP_PROXY / TRELLIS_OUTBOUND pointing at the sidecar, since no
   * iptables rule captures their traffic. `kubernetes`: the init container's rules do that instead.
   */
  mode?: 'local' | 'kubernetes';
  /** Tracing for the sidecar (TRELLIS_TRACE_COLLECTOR / TRELLIS_TRACE_SAMPLING); absent: the sidecar's defaults. */
  tracing?: SidecarTracing;
}

/** Where a sidecar sends spans and what share of new traces it samples (local mode: the control plane's collector, 100%). */
export interface SidecarTracing {
  /** OTLP/HTTP JSON endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  collector: string;
  samplingPercent: number;
}

export interface InjectionResult {
  /** The pod spec to run: the input's when not injected (never mutated). */
  spec: PodSpec;
  injected: boolean;
  reason: string;
}

/**
 * Decides whether a pod gets a sidecar (Istio's policy) and, if so, returns its spec with the
 * `trellis-proxy` container added and the app containers' outbound traffic sent through it. Pure: the same
 * code serves local mode and the Kubernetes mutating webhook.
 */
export function injectSidecar(pod: InjectablePod, ctx: InjectionContext): InjectionResult {
  const { metadata, spec } = pod;
  if (spec.containers.some((c) => c.name === SIDECAR_CONTAINER_NAME) || metadata.annotations?.[INJECTION_STATUS_ANNOTATION]) {
    return { spec, injected: false, reason: 'the pod already has a sidecar' };
  }
  const decision = injectionDecision(metadata, ctx.namespaceLabels, { hostNetwork: spec.hostNetwork === true });
  if (!decision.inject) return { spec, injected: false, reason: decision.reason };
  const local = (ctx.mode ?? 'local') === 'local';
  return {
    spec: {
      ...spec,
      containers: [
        ...spec.containers.map((c) => (local ? { ...c, env: [...(c.env ?? []), ...outboundEnv(c)] } : c)),
        sidecarContainer(pod, ctx),
      ],
    },
    injected: true,
    reason: decision.reason,
  };
}

/** The env an app container gets so its outbound HTTP goes to the sidecar's outbound listener. */
export function outboundEnv(c: Container): EnvVar[] {
  const has = new Set((c.env ?? []).map((e) => e.name));
  const proxyUrl = `http://$(POD_IP):${SIDECAR_PORTS.outbound}`;
  const add: EnvVar[] = [];
  // `$(POD_IP)` expands only from variables defined earlier in the list (Kubernetes' dependent variables).
  if (!has.has('POD_IP')) add.push(fieldEnv('POD_IP', 'status.podIP'));
  // Node's http ignores HTTP_PROXY, so Trellis' own variable says the same for apps that ask for it.
  for (const name of ['HTTP_PROXY', 'TRELLIS_OUTBOUND']) if (!has.has(name)) add.push({ name, value: proxyUrl });
  return add;
}

export function sidecarContainer(pod: InjectablePod, ctx: InjectionContext): SidecarContainer {
  const labels = pod.metadata.labels ?? {};
  const container: SidecarContainer = {
    name: SIDECAR_CONTAINER_NAME,
    command: [...ctx.proxyCommand],
    env: [
      { name: 'TRELLIS_CONTROL_PLANE', value: ctx.controlPlane },
      fieldEnv('TRELLIS_NAMESPACE', 'metadata.namespace'),
      fieldEnv('TRELLIS_POD_NAME', 'metadata.name'),
      fieldEnv('TRELLIS_POD_IP', 'status.podIP'),
      { name: 'TRELLIS_WORKLOAD', value: ctx.workloadName ?? workloadNameOf(pod) },
      { name: 'TRELLIS_LABELS', value: JSON.stringify(labels) },
      { name: 'TRELLIS_APP_PORTS', value: appPortsSetting(pod.spec.containers) },
      ...(ctx.tracing
        ? [
            { name: 'TRELLIS_TRACE_COLLECTOR', value: ctx.tracing.collector },
            { name: 'TRELLIS_TRACE_SAMPLING', value: String(ctx.tracing.samplingPercent) },
          ]
        : []),
    ],
    ports: [{ name: 'http-envoy-prom', containerPort: SIDECAR_PORTS.metrics, protocol: 'TCP' }],
    // Istio's sidecar readiness probe.
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: SIDECAR_PORTS.health },
      periodSeconds: 15,
      timeoutSeconds: 3,
      failureThreshold: 4,
    },
  };
  if (ctx.image) container.image = ctx.image;
  return container;
}

function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/**
 * The app's TCP container ports as `name:port,port` (TRELLIS_APP_PORTS, the sidecar's inbound ports). A port
 * or name declared twice across containers is listed once.
 */
export function appPortsSetting(containers: readonly Container[]): string {
  const ports = new Set<number>();
  const names = new Set<string>();
  const out: string[] = [];
  for (const p of containers.flatMap((c): ContainerPort[] => c.ports ?? [])) {
    if ((p.protocol ?? 'TCP').toUpperCase() !== 'TCP' || ports.has(p.containerPort)) continue;
    ports.add(p.containerPort);
    const named = p.name && !names.has(p.name);
    if (named) names.add(p.name!);
    out.push(named ? `${p.name}:${p.containerPort}` : String(p.containerPort));
  }
  return out.join(',');
}

/**
 * The workload (Deployment) a pod belongs to, as Istio derives it: a ReplicaSet owner's name without its
 * `-<pod-template-hash>` suffix, another controller's name, the generateName, the `app` label, the pod name.
 */
export function workloadNameOf(pod: InjectablePod): string {
  const { metadata } = pod;
  const hash = metadata.labels?.['pod-template-hash'];
  const stripHash = (name: string) => (hash && name.endsWith(`-${hash}`) ? name.slice(0, -hash.length - 1) : name);
  const owner = metadata.ownerReferences?.find((o) => o.controller) ?? metadata.ownerReferences?.[0];
  if (owner) return owner.kind === 'ReplicaSet' ? stripHash(owner.name) : owner.name;
  if (metadata.generateName) return stripHash(metadata.generateName.replace(/-$/, ''));
  return metadata.labels?.app ?? metadata.name ?? '';
}
