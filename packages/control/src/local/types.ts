import type { Labels } from '../model/istio-types.js';

/** A container's state, shaped like Kubernetes' ContainerState (exactly one of the three). */
export type ContainerState =
  | { running: { startedAt: Date } }
  | { waiting: { reason: string; message?: string } }
  | { terminated: TerminatedState };

export interface TerminatedState {
  exitCode: number;
  signal?: string;
  /** `Completed` (exit 0), `Error`, `StartError` (could not be started). */
  reason: string;
  message?: string;
  startedAt?: Date;
  finishedAt: Date;
}

export interface LocalContainerStatus {
  name: string;
  /** The injected trellis-proxy container. */
  sidecar: boolean;
  ready: boolean;
  restartCount: number;
  state: ContainerState;
  /** How the previous run ended. */
  lastState?: { terminated: TerminatedState };
  /** The running process (leader of its own process group). */
  pid?: number;
  /** The command line it runs (after `$(VAR)` expansion). */
  command: string[];
}

/** One local pod at one moment. */
export interface LocalPodStatus {
  name: string;
  namespace: string;
  /** metadata.uid. */
  uid: string;
  /** The owning Deployment. */
  deployment: string;
  labels: Labels;
  annotations: Record<string, string>;
  podIP: string;
  createdAt: Date;
  /** Set once the pod is being stopped (kubectl shows Terminating). */
  deletedAt?: Date;
  /** Whether it was injected with a sidecar. */
  sidecar: boolean;
  /** Why it was (or wasn't) injected. */
  injection: string;
  phase: 'Pending' | 'Running';
  ready: boolean;
  containers: LocalContainerStatus[];
  /** The manifest the pod comes from. */
  manifest: string;
}

/** A line a container wrote. */
export interface OutputLine {
  namespace: string;
  pod: string;
  container: string;
  sidecar: boolean;
  stream: 'stdout' | 'stderr';
  line: string;
  time: Date;
}

/**
 * What `trellis exec` needs to run a command as if inside a container: local containers are host processes, so
 * the CLI starts the command itself with the container's environment (its pod's identity, the sidecar proxy
 * settings) in the container's working directory.
 */
export interface ExecContext {
  namespace: string;
  pod: string;
  container: string;
  /** The injected sidecar (its admin listens on the pod IP, port 15000). */
  sidecar: boolean;
  /** Whether the container is running now (kubectl exec refuses a container that isn't). */
  running: boolean;
  podIP: string;
  cwd: string;
  env: Record<string, string>;
}
