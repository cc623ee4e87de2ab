import { EventEmitter } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import type { Labels } from '../model/istio-types.js';
import type { Container, PodSpec } from '../model/kube-types.js';
import { SIDECAR_CONTAINER_NAME, SIDECAR_PORTS } from '../inject/index.js';
import { ContainerProcess, DEFAULT_BACKOFF, type ContainerRunSpec, type RestartBackoff } from './container-process.js';
import { ContainerConfigError, commandLine, containerEnv, type PodFacts } from './container-env.js';
import { httpProbe, tcpProbe } from './probes.js';
import type { LocalPodStatus, OutputLine } from './types.js';

/** Everything needed to run one pod: its identity and the (already injected) spec. */
export interface LocalPodSpec {
  name: string;
  namespace: string;
  uid: string;
  deployment: string;
  podIP: string;
  labels: Labels;
  annotations: Record<string, string>;
  spec: PodSpec;
  injected: boolean;
  injectionReason: string;
  /** The manifest file; containers run in its folder. */
  manifest: string;
  /** Identifies the Deployment revision the pod was made from (template, injection, folder). */
  revision: string;
}

export interface LocalPodOptions {
  backoff?: RestartBackoff;
  logLines?: number;
  probeTimeoutMs?: number;
}

/**
 * A pod run locally: one process per container on the pod's own loopback IP. Ready when every app container's
 * ports accept TCP and the sidecar (if any) answers /healthz/ready, as the kubelet's probes would decide.
 */
export class LocalPod extends EventEmitter<{ change: []; output: [OutputLine] }> {
  readonly containers: ContainerProcess[];
  readonly createdAt = new Date();
  deletedAt: Date | undefined;
  private readonly probeOk: boolean[];
  private probing = false;
  /** False while app containers wait for the sidecar. */
  private appsStarted = false;

  constructor(
    readonly spec: LocalPodSpec,
    private readonly opts: LocalPodOptions = {},
  ) {
    super();
    const facts: PodFacts = {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      podIP: spec.podIP,
      labels: spec.labels,
      annotations: spec.annotations,
      serviceAccountName: spec.spec.serviceAccountName ?? 'default',
    };
    const dir = resolve(spec.manifest, '..');
    this.containers = spec.spec.containers.map((c) => {
      const proc = new ContainerProcess(runSpec(c, facts, dir), opts.backoff ?? DEFAULT_BACKOFF, opts.logLines);
      proc.on('change', () => this.containerChanged(proc));
      proc.on('output', (e) =>
        this.emit('output', { namespace: spec.namespace, pod: spec.name, container: c.name, sidecar: proc.spec.sidecar, ...e }),
      );
      return proc;
    });
    this.probeOk = this.containers.map(() => false);
  }

  get name(): string {
    return this.spec.name;
  }

  get ready(): boolean {
    return this.deletedAt === undefined && this.containers.every((c, i) => c.running && this.probeOk[i]);
  }

  /**
   * Starts the containers. With a sidecar, the apps wait until it is ready (as Kubernetes' native sidecars, or
   * Istio's holdApplicationUntilProxyStarts): an app's first calls would otherwise find no outbound listener.
   */
  start(): void {
    const sidecar = this.sidecar();
    if (!sidecar) {
      this.appsStarted = true;
      for (const c of this.containers) c.start();
      return;
    }
    for (const c of this.apps()) c.hold('PodInitializing', 'waiting for the sidecar to be ready');
    sidecar.start();
  }

  /** Runs each running container's readiness check once; emits `change` when a result changed. */
  async probe(): Promise<void> {
    if (this.probing || this.deletedAt) return;
    this.probing = true;
    try {
      const timeout = this.opts.probeTimeoutMs ?? 1000;
      const results = await Promise.all(this.containers.map((c, i) => (c.running ? this.probeContainer(i, timeout) : false)));
      let changed = false;
      results.forEach((ok, i) => {
        // A container that stopped while the probe ran isn't ready, whatever the probe saw.
        const now = ok && this.containers[i]!.running;
        if (now !== this.probeOk[i]) changed = true;
        this.probeOk[i] = now;
      });
      const sidecar = this.sidecar();
      if (!this.appsStarted && sidecar && this.probeOk[this.containers.indexOf(sidecar)]) {
        this.appsStarted = true;
        for (const c of this.apps()) c.start();
      }
      if (changed) this.emit('change');
    } finally {
      this.probing = false;
    }
  }

  status(): LocalPodStatus {
    const { spec } = this;
    const containers = this.containers.map((c, i) => c.status(this.probeOk[i]! && this.deletedAt === undefined));
    const creating = containers.some((c) => 'waiting' in c.state && c.restartCount === 0 && !c.lastState);
    const s: LocalPodStatus = {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      deployment: spec.deployment,
      labels: spec.labels,
      annotations: spec.annotations,
      podIP: spec.podIP,
      createdAt: this.createdAt,
      sidecar: spec.injected,
      injection: spec.injectionReason,
      phase: creating ? 'Pending' : 'Running',
      ready: this.ready,
      containers,
      manifest: spec.manifest,
    };
    if (this.deletedAt) s.deletedAt = this.deletedAt;
    return s;
  }

  /** Stops every container (SIGTERM, then SIGKILL after `graceMs`); resolves when all have exited. */
  /**
   * Stops the app containers, then the sidecar (so apps can finish their outbound calls), within one grace
   * period: SIGTERM, then SIGKILL to whatever is left when it runs out. Resolves when every process has exited.
   */
  async terminate(graceMs: number): Promise<void> {
    this.deletedAt ??= new Date();
    this.emit('change');
    const deadline = Date.now() + graceMs;
    await Promise.all(this.apps().map((c) => c.stop(graceMs)));
    await this.sidecar()?.stop(Math.max(0, deadline - Date.now()));
  }

  private sidecar(): ContainerProcess | undefined {
    return this.containers.find((c) => c.spec.sidecar);
  }

  private apps(): ContainerProcess[] {
    return this.containers.filter((c) => !c.spec.sidecar);
  }

  killNow(): void {
    for (const c of this.containers) c.killNow();
  }

  private probeContainer(i: number, timeoutMs: number): Promise<boolean> {
    const c = this.containers[i]!;
    const ip = this.spec.podIP;
    if (c.spec.sidecar) return httpProbe(ip, SIDECAR_PORTS.health, '/healthz/ready', timeoutMs);
    const ports = (this.spec.spec.containers[i]!.ports ?? []).filter((p) => (p.protocol ?? 'TCP').toUpperCase() === 'TCP');
    return Promise.all(ports.map((p) => tcpProbe(ip, p.containerPort, timeoutMs))).then((oks) => oks.every(Boolean));
  }

  private containerChanged(c: ContainerProcess): void {
    // A container that left `running` must pass its probe again after it restarts.
    if (!c.running) this.probeOk[this.containers.indexOf(c)] = false;
    this.emit('change');
  }
}

/** Resolves a container's command, environment and folder; a problem becomes the container's waiting reason. */
function runSpec(c: Container, pod: PodFacts, dir: string): ContainerRunSpec {
  const sidecar = c.name === SIDECAR_CONTAINER_NAME;
  const cwd = c.workingDir ? (isAbsolute(c.workingDir) ? c.workingDir : resolve(dir, c.workingDir)) : dir;
  try {
    const env = containerEnv(c, pod);
    const argv = commandLine(c, env);
    // `node` means the Node running Trellis: the same version everywhere, whatever PATH finds first.
    if (argv[0] === 'node') argv[0] = process.execPath;
    return { name: c.name, sidecar, argv, cwd, env };
  } catch (err) {
    if (!(err instanceof ContainerConfigError)) throw err;
    return { name: c.name, sidecar, argv: { error: err.message }, cwd, env: {} };
  }
}
