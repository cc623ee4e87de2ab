import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ControlPlane } from '../control-plane.js';
import { injectSidecar } from '../inject/index.js';
import { SIDECAR_PORTS, type SidecarTracing } from '../inject/sidecar.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { Deployment } from '../model/objects.js';
import { namedPorts } from '../registry/workloads.js';
import type { Workload } from '../registry/types.js';
import type { ContainerProcess, RestartBackoff } from './container-process.js';
import { ingressGatewayDefaults } from './ingress-gateway.js';
import { LoopbackIpAllocator } from './ip-allocator.js';
import type { LogEntry } from './log-buffer.js';
import { LocalPod, type LocalPodSpec } from './local-pod.js';
import { fnv32a, podName, safeEncode, stableJson, templateHash } from './pod-names.js';
import type { ExecContext, LocalPodStatus, OutputLine } from './types.js';

/** The parts of the control plane local mode uses: its config, its workload store and its xDS port. */
export type LocalClusterPlane = Pick<ControlPlane, 'source' | 'workloads' | 'xdsPort'>;

export interface LocalClusterOptions {
  /** The command that runs a sidecar, e.g. `[process.execPath, '--single-threaded-gc', '--v8-pool-size=1', '<repo>/bin/trellis.js', 'proxy']`. */
  proxyCommand: string[];
  /** What sidecars dial; default `127.0.0.1:<xdsPort>`. */
  controlPlaneAddress?: string;
  /** Where sidecars send spans, and how many they sample (`trellis up`: the control plane's collector, 100%). */
  tracing?: SidecarTracing;
  /** How often readiness is checked. */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** SIGTERM-to-SIGKILL time when a pod is deleted (Kubernetes' terminationGracePeriodSeconds). */
  gracePeriodMs?: number;
  backoff?: RestartBackoff;
  /** Output lines kept per container. */
  logLines?: number;
  /** The first pod IP handed out (default 127.0.1.2); pod IPs then count up from it. */
  firstPodIp?: string;
  /**
   * Run an ingress gateway (`istio-ingressgateway` in istio-system, as Istio's default profile does) unless the
   * folder runs its own pods labelled `istio: ingressgateway`. Off by default; `trellis up` turns it on.
   */
  ingressGateway?: boolean;
}

/** One Deployment as the reconciler sees it: what its pods should look like and how many. */
interface DesiredDeployment {
  key: string;
  deployment: Deployment;
  replicas: number;
  revision: string;
  hash: string;
  template: Omit<LocalPodSpec, 'name' | 'uid' | 'podIP'>;
}

/**
 * Local mode's kubelet and ReplicaSet controller in one: runs every Deployment of the current config as local
 * pods, keeps their count and revision in line with the YAML, and registers every pod as a workload with its
 * readiness.
 */
export class LocalCluster extends EventEmitter<{ change: []; output: [OutputLine] }> {
  private readonly pods = new Map<string, LocalPod>();
  private readonly ips: LoopbackIpAllocator;
  /** Pods registered as workloads, with the readiness last registered. */
  private readonly registered = new Map<string, boolean>();
  private readonly terminations = new Set<Promise<void>>();
  private readonly onConfig = (config: MeshConfig) => this.reconcile(config);
  private readonly onHostExit = () => this.killAllNow();
  private probeTimer: NodeJS.Timeout | undefined;
  private changeQueued = false;
  private reconcileQueued = false;
  private stopped = false;

  private constructor(
    private readonly plane: LocalClusterPlane,
    private readonly opts: LocalClusterOptions,
  ) {
    super();
    this.ips = new LoopbackIpAllocator(opts.firstPodIp);
  }

  /** Starts the pods of the plane's current config and follows its changes until stop(). */
  static start(plane: LocalClusterPlane, opts: LocalClusterOptions): LocalCluster {
    const cluster = new LocalCluster(plane, opts);
    if (opts.ingressGateway) {
      const controlPlane = opts.controlPlaneAddress ?? `127.0.0.1:${plane.xdsPort}`;
      plane.source.setDefaults(ingressGatewayDefaults({ proxyCommand: opts.proxyCommand, controlPlane }));
    }
    plane.source.on('change', cluster.onConfig);
    process.on('exit', cluster.onHostExit);
    cluster.reconcile(plane.source.current());
    cluster.probeTimer = setInterval(() => cluster.probeAll(), opts.probeIntervalMs ?? 500);
    cluster.probeTimer.unref();
    return cluster;
  }

  /** Every pod, terminating ones included, by namespace then name. */
  list(): LocalPodStatus[] {
    return [...this.pods.values()]
      .map((p) => p.status())
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  /** A container's buffered output (the first container when none is named); undefined if there is no such pod/container. */
  logs(namespace: string, pod: string, container?: string, tail?: number): LogEntry[] | undefined {
    return this.container(namespace, pod, container)?.process.logs.lines(tail);
  }

  /** How to run a command in a container (the first when none is named); undefined if there is no such pod/container. */
  execContext(namespace: string, pod: string, container?: string): ExecContext | undefined {
    const found = this.container(namespace, pod, container);
    if (!found) return undefined;
    const { pod: p, process: c } = found;
    const { name, sidecar, cwd, env } = c.spec;
    return { namespace, pod, container: name, sidecar, running: c.running && !p.deletedAt, podIP: p.spec.podIP, cwd, env: { ...env } };
  }

  /** A pod's container by name, or its first (the app: a sidecar is appended) when none is named. */
  private container(namespace: string, pod: string, name?: string): { pod: LocalPod; process: ContainerProcess } | undefined {
    const p = this.pods.get(podKey(namespace, pod));
    const c = name === undefined ? p?.containers[0] : p?.containers.find((x) => x.spec.name === name);
    return p && c ? { pod: p, process: c } : undefined;
  }

  /** Stops following config and terminates every pod; resolves once no process of any pod is left. */
  async stop(): Promise<void> {
    if (this.stopped) return Promise.all([...this.terminations]).then(() => {});
    this.stopped = true;
    this.plane.source.off('change', this.onConfig);
    if (this.opts.ingressGateway) this.plane.source.setDefaults(undefined);
    clearInterval(this.probeTimer);
    for (const pod of this.pods.values()) this.delete(pod);
    await Promise.all([...this.terminations]);
    process.off('exit', this.onHostExit);
  }

  /** Brings the running pods in line with the config: create, scale, roll to a new revision, delete. */
  reconcile(config: MeshConfig = this.plane.source.current()): void {
    if (this.stopped) return;
    const desired = new Map(config.deployments.map((d) => [deploymentKey(d), this.desired(d, config)]));
    for (const pod of this.live()) if (!desired.has(podDeploymentKey(pod))) this.delete(pod);
    for (const d of desired.values()) this.reconcileDeployment(d);
  }

  private reconcileDeployment(d: DesiredDeployment): void {
    const mine = this.live().filter((p) => podDeploymentKey(p) === d.key);
    const current = mine.filter((p) => p.spec.revision === d.revision);
    const stale = mine.filter((p) => p.spec.revision !== d.revision);
    for (const p of deletionOrder(current).slice(0, Math.max(0, current.length - d.replicas))) this.delete(p);
    for (let n = current.length; n < d.replicas; n++) this.create(d, current);
    // Roll like maxUnavailable 0: an old pod goes as soon as a new one is ready to take its place.
    const readyNew = current.filter((p) => p.ready).length;
    const keepStale = Math.max(0, d.replicas - readyNew);
    for (const p of deletionOrder(stale).slice(0, Math.max(0, stale.length - keepStale))) this.delete(p);
  }

  private desired(d: Deployment, config: MeshConfig): DesiredDeployment {
    const { name, namespace } = d.metadata;
    const template = d.spec.template;
    const hash = templateHash(template);
    const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash };
    const annotations = { ...(template.metadata?.annotations ?? {}) };
    const injection = injectSidecar(
      { metadata: { namespace, labels, annotations }, spec: template.spec },
      {
        namespaceLabels: config.namespaceLabels(namespace),
        controlPlane: this.opts.controlPlaneAddress ?? `127.0.0.1:${this.plane.xdsPort}`,
        proxyCommand: this.opts.proxyCommand,
        workloadName: name,
        ...(this.opts.tracing ? { tracing: this.opts.tracing } : {}),
      },
    );
    const revision = safeEncode(fnv32a(stableJson({ spec: injection.spec, labels, annotations, file: d.origin.file })), 6);
    return {
      key: deploymentKey(d),
      deployment: d,
      replicas: d.spec.replicas ?? 1,
      revision,
      hash,
      template: {
        namespace,
        deployment: name,
        labels,
        annotations,
        spec: injection.spec,
        injected: injection.injected,
        injectionReason: injection.reason,
        manifest: d.origin.file,
        revision,
      },
    };
  }

  private create(d: DesiredDeployment, siblings: LocalPod[]): void {
    const { name, namespace } = d.deployment.metadata;
    const usedIndexes = new Set(siblings.map((p) => podIndex.get(p)));
    let index = 0;
    while (usedIndexes.has(index)) index++;
    let salt = 0;
    let pod = podName(name, d.hash, `${d.key}#${d.revision}`, index, salt);
    while (this.pods.has(podKey(namespace, pod))) pod = podName(name, d.hash, `${d.key}#${d.revision}`, index, ++salt);

    const local = new LocalPod(
      { ...d.template, name: pod, uid: randomUUID(), podIP: this.ips.allocate() },
      { backoff: this.opts.backoff, logLines: this.opts.logLines, probeTimeoutMs: this.opts.probeTimeoutMs },
    );
    podIndex.set(local, index);
    siblings.push(local);
    this.pods.set(podKey(namespace, pod), local);
    local.on('change', () => this.podChanged(local));
    local.on('output', (line) => this.emit('output', line));
    local.start();
    this.changed();
  }

  private delete(pod: LocalPod): void {
    if (pod.deletedAt) return;
    const done = pod.terminate(this.opts.gracePeriodMs ?? 5000).then(() => {
      this.pods.delete(podKey(pod.spec.namespace, pod.name));
      this.ips.release(pod.spec.podIP);
      this.terminations.delete(done);
      this.changed();
    });
    this.terminations.add(done);
    this.syncWorkload(pod);
  }

  private podChanged(pod: LocalPod): void {
    this.syncWorkload(pod);
    // A pod that became ready may let an old-revision pod go; one that stopped being ready may hold one back.
    if (!pod.deletedAt && lastReady.get(pod) !== pod.ready) {
      lastReady.set(pod, pod.ready);
      this.scheduleReconcile();
    }
    this.changed();
  }

  /** Reconciles on the next tick: pod events fire in the middle of a reconcile, which must not re-enter. */
  private scheduleReconcile(): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }

  /**
   * Every running pod is a workload, with its readiness, as Kubernetes lists pods: only Ready ones become
   * endpoints. A sidecar'd pod also registers itself over xDS when its sidecar connects, which is before its
   * app listens; this entry outranks that one (see mergeWorkloads), so traffic waits for Ready.
   */
  private syncWorkload(pod: LocalPod): void {
    const uid = `local/${pod.spec.namespace}/${pod.name}`;
    const ready = pod.ready && !pod.deletedAt;
    if (pod.deletedAt) {
      if (this.registered.delete(pod.spec.uid)) this.plane.workloads.remove(uid);
      return;
    }
    if (this.registered.get(pod.spec.uid) === ready) return;
    this.registered.set(pod.spec.uid, ready);
    this.plane.workloads.upsert(workloadOf(pod, uid, ready));
  }

  private probeAll(): void {
    for (const pod of this.pods.values()) void pod.probe();
  }

  private live(): LocalPod[] {
    return [...this.pods.values()].filter((p) => !p.deletedAt);
  }

  /** `change` at most once per tick: a reconcile touches many pods at once. */
  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      this.emit('change');
    });
  }

  private killAllNow(): void {
    for (const pod of this.pods.values()) pod.killNow();
  }
}

/** The ordinal each pod's name was derived from, so a replacement reuses the lowest free one. */
const podIndex = new WeakMap<LocalPod, number>();
/** Readiness as last seen, to react to transitions only. */
const lastReady = new WeakMap<LocalPod, boolean>();

const podKey = (namespace: string, name: string) => `${namespace}/${name}`;
const deploymentKey = (d: Deployment) => `${d.metadata.namespace}/${d.metadata.name}`;
const podDeploymentKey = (p: LocalPod) => `${p.spec.namespace}/${p.spec.deployment}`;

/** Which pods a scale-down removes first: not ready before ready, then the newest (as the ReplicaSet controller). */
function deletionOrder(pods: LocalPod[]): LocalPod[] {
  return [...pods].sort((a, b) => Number(a.ready) - Number(b.ready) || b.createdAt.getTime() - a.createdAt.getTime() || (podIndex.get(b) ?? 0) - (podIndex.get(a) ?? 0));
}

function workloadOf(pod: LocalPod, uid: string, ready: boolean): Workload {
  const { spec } = pod;
  return {
    uid,
    name: spec.name,
    namespace: spec.namespace,
    workloadName: spec.deployment,
    address: spec.podIP,
    labels: { ...spec.labels },
    ports: namedPorts(spec.spec.containers.flatMap((c) => c.ports ?? [])),
    kind: 'Pod',
    locality: '',
    weight: 1,
    source: 'local',
    ready,
    ...(spec.injected ? { sidecar: { inboundPort: SIDECAR_PORTS.inbound } } : {}),
  };
}
