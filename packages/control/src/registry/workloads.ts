import type { WorkloadEntrySpec } from '../model/istio-types.js';
import type { ContainerPort } from '../model/kube-types.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { Pod, ServiceEntry, WorkloadEntry } from '../model/objects.js';
import { objectRef } from '../model/objects.js';
import { labelsMatch } from './labels.js';
import type { Workload } from './types.js';

/** Named container ports as a map; unnamed ports can only be reached by number. */
export function namedPorts(ports: readonly ContainerPort[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of ports ?? []) if (p?.name && Number.isInteger(p.containerPort)) out[p.name] = p.containerPort;
  return out;
}

function entryPorts(ports: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(ports ?? {})) if (Number.isInteger(n) && n > 0) out[name] = n;
  return out;
}

/** Istio's weight: 0 or unset means 1. */
const weightOf = (w: number | undefined) => (typeof w === 'number' && w > 0 ? Math.floor(w) : 1);

function fromEntrySpec(spec: WorkloadEntrySpec, ids: { uid: string; name: string; namespace: string; workloadName: string }): Workload | undefined {
  if (!spec?.address) return undefined;
  return {
    ...ids,
    address: spec.address,
    labels: { ...(spec.labels ?? {}) },
    ports: entryPorts(spec.ports),
    kind: 'WorkloadEntry',
    locality: spec.locality ?? '',
    weight: weightOf(spec.weight),
    source: 'config',
  };
}

export function workloadFromEntry(we: WorkloadEntry): Workload | undefined {
  const { name, namespace } = we.metadata;
  return fromEntrySpec(we.spec, { uid: objectRef(we), name, namespace, workloadName: name });
}

/** A ServiceEntry's inline endpoints: they back only that entry's hosts. */
export function workloadsFromEntryEndpoints(se: ServiceEntry): Workload[] {
  const { name, namespace } = se.metadata;
  const origin = objectRef(se);
  return (se.spec?.endpoints ?? []).flatMap((ep, i) => {
    const w = fromEntrySpec(ep, { uid: `${origin}#${i}`, name: `${name}-${i}`, namespace, workloadName: name });
    return w ? [{ ...w, onlyFor: origin }] : [];
  });
}

/** The Deployment a pod belongs to: the one in its namespace whose selector matches it. */
function owningDeployment(config: MeshConfig, pod: Pod): string | undefined {
  return config.deployments.find(
    (d) =>
      d.metadata.namespace === pod.metadata.namespace &&
      Object.keys(d.spec?.selector?.matchLabels ?? {}).length > 0 &&
      labelsMatch(pod.metadata.labels, d.spec.selector?.matchLabels),
  )?.metadata.name;
}

/** A pod that has an IP and hasn't finished. */
export function workloadFromPod(config: MeshConfig, pod: Pod): Workload | undefined {
  const ip = pod.status?.podIP;
  const phase = pod.status?.phase;
  if (!ip || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const { name, namespace } = pod.metadata;
  return {
    uid: objectRef(pod),
    name,
    namespace,
    workloadName: owningDeployment(config, pod) ?? name,
    address: ip,
    labels: { ...pod.metadata.labels },
    ports: namedPorts((pod.spec?.containers ?? []).flatMap((c) => c?.ports ?? [])),
    kind: 'Pod',
    locality: '',
    weight: 1,
    source: 'config',
  };
}

const defined = <T>(x: T | undefined): x is T => x !== undefined;

/** Workloads written in config: WorkloadEntries, ServiceEntry endpoints, pods with an IP. */
export function workloadsFromConfig(config: MeshConfig): Workload[] {
  return [
    ...config.workloadEntries.map(workloadFromEntry).filter(defined),
    ...config.serviceEntries.flatMap(workloadsFromEntryEndpoints),
    ...config.pods.map((p) => workloadFromPod(config, p)).filter(defined),
  ];
}

const SOURCE_RANK: Record<Workload['source'], number> = { local: 0, xds: 1, config: 2 };

/**
 * Merges dynamic and configured workloads. One pod address in a namespace is one pod, whatever reported
 * it: local mode knows best (like the kubelet, it knows whether the pod is Ready and whether it was injected),
 * then the pod's own xDS connection (live, and says a sidecar fronts it), then config. WorkloadEntries and ServiceEntry endpoints are declared explicitly and always kept.
 */
export function mergeWorkloads(configured: readonly Workload[], dynamic: readonly Workload[]): Workload[] {
  const all = [...dynamic, ...configured].filter((w) => w && w.address);
  const pods = all
    .filter((w) => w.kind !== 'WorkloadEntry')
    .sort((a, b) => SOURCE_RANK[a.source] - SOURCE_RANK[b.source]);
  const seenAddress = new Set<string>();
  const seenUid = new Set<string>();
  const keep = (w: Workload, key?: string) => {
    if (seenUid.has(w.uid) || (key && seenAddress.has(key))) return false;
    seenUid.add(w.uid);
    if (key) seenAddress.add(key);
    return true;
  };
  const keptPods = pods.filter((w) => keep(w, `${w.namespace}/${w.address}`));
  const entries = all.filter((w) => w.kind === 'WorkloadEntry' && keep(w));
  return [...keptPods, ...entries];
}
