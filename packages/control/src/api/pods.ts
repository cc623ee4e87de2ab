import { constants } from 'node:os';
import { INJECTION_STATUS_ANNOTATION } from '../inject/index.js';
import { LOCAL_NODE } from '../local/container-env.js';
import type { ContainerState, LocalPodStatus, TerminatedState } from '../local/types.js';
import type { Pod } from '../model/objects.js';

/** A Pod as the Kubernetes API returns it (core/v1), limited to what Trellis knows. */
export interface PodJson {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    /** A Deployment's pod is owned by its ReplicaSet `<deployment>-<pod-template-hash>`, as in Kubernetes. */
    ownerReferences?: { apiVersion: string; kind: string; name: string; controller: boolean }[];
  };
  spec: { nodeName?: string; containers: { name: string; command?: string[] }[] };
  status: {
    phase: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    startTime?: string;
    conditions: { type: 'Ready'; status: 'True' | 'False' }[];
    containerStatuses: ContainerStatusJson[];
  };
}

export interface ContainerStatusJson {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: ContainerStateJson;
  lastState: ContainerStateJson | Record<string, never>;
}

export type ContainerStateJson =
  | { running: { startedAt: string } }
  | { waiting: { reason: string; message?: string } }
  | { terminated: TerminatedJson };

interface TerminatedJson {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
}

export interface PodListJson {
  apiVersion: 'v1';
  kind: 'List';
  items: PodJson[];
}

export function podList(items: PodJson[]): PodListJson {
  return { apiVersion: 'v1', kind: 'List', items };
}

/** A local pod in the Kubernetes API's shape; an injected pod carries Istio's sidecar status annotation. */
export function localPodJson(p: LocalPodStatus): PodJson {
  const annotations = { ...p.annotations };
  if (p.sidecar) {
    annotations[INJECTION_STATUS_ANNOTATION] = JSON.stringify({ containers: p.containers.filter((c) => c.sidecar).map((c) => c.name) });
  }
  const json: PodJson = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: { ...p.labels },
      annotations,
      creationTimestamp: p.createdAt.toISOString(),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSetName(p), controller: true }],
    },
    spec: { nodeName: LOCAL_NODE.name, containers: p.containers.map((c) => ({ name: c.name, command: c.command })) },
    status: {
      phase: p.phase,
      podIP: p.podIP,
      podIPs: [{ ip: p.podIP }],
      hostIP: LOCAL_NODE.ip,
      startTime: p.createdAt.toISOString(),
      conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }],
      containerStatuses: p.containers.map((c) => ({
        name: c.name,
        ready: c.ready,
        started: 'running' in c.state,
        restartCount: c.restartCount,
        state: stateJson(c.state),
        lastState: c.lastState ? stateJson(c.lastState) : {},
      })),
    },
  };
  if (p.deletedAt) json.metadata.deletionTimestamp = p.deletedAt.toISOString();
  return json;
}

/** The ReplicaSet a Deployment's pods belong to in Kubernetes: the Deployment's name and the template hash. */
function replicaSetName(p: LocalPodStatus): string {
  const hash = p.labels['pod-template-hash'];
  return hash ? `${p.deployment}-${hash}` : p.deployment;
}

/** A Pod written in config (not run by Trellis): shown with whatever status its YAML gives. */
export function configPodJson(p: Pod): PodJson {
  const ip = p.status?.podIP;
  const phase = p.status?.phase ?? 'Unknown';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: { ...p.metadata.labels }, annotations: { ...p.metadata.annotations } },
    spec: { containers: (p.spec?.containers ?? []).map((c) => ({ name: c.name })) },
    status: {
      phase,
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: phase === 'Running' && ip ? 'True' : 'False' }],
      containerStatuses: [],
    },
  };
}

function stateJson(s: ContainerState): ContainerStateJson {
  if ('running' in s) return { running: { startedAt: s.running.startedAt.toISOString() } };
  if ('waiting' in s) return { waiting: { ...s.waiting } };
  return { terminated: terminatedJson(s.terminated) };
}

function terminatedJson(t: TerminatedState): TerminatedJson {
  const out: TerminatedJson = { exitCode: t.exitCode, reason: t.reason, finishedAt: t.finishedAt.toISOString() };
  if (t.signal) out.signal = constants.signals[t.signal as NodeJS.Signals];
  if (t.message) out.message = t.message;
  if (t.startedAt) out.startedAt = t.startedAt.toISOString();
  return out;
}
