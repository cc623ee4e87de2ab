import type { PodJson, PodListJson } from '@trellis/control';
import { SIDECAR_CONTAINER_NAME } from '@trellis/control';
import { getJson, type Fetched } from './client.js';

/** The flags exec and logs share (parseArgs options), as kubectl spells them. */
export const POD_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  container: { type: 'string', short: 'c' },
  api: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** How kubectl names a pod on exec/logs' command line: `NAME`, `pod/NAME`, or a Deployment `deploy/NAME`. */
export type PodRef = { kind: 'pod'; name: string } | { kind: 'deployment'; name: string };

const POD_WORDS = new Set(['pod', 'pods', 'po']);
const DEPLOYMENT_WORDS = new Set(['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps']);

/** Parses a pod reference; a string is why it isn't one. */
export function parsePodRef(text: string): PodRef | string {
  const slash = text.indexOf('/');
  if (slash < 0) return text ? { kind: 'pod', name: text } : 'a pod name is required';
  const type = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  if (!name || name.includes('/')) return `"${text}" is not TYPE/NAME`;
  if (POD_WORDS.has(type)) return { kind: 'pod', name };
  if (DEPLOYMENT_WORDS.has(type)) return { kind: 'deployment', name };
  return `the server doesn't have a resource type "${type}" here (pod/NAME or deploy/NAME)`;
}

/** The pod a reference means, plus a note for stderr when a Deployment had several; or an error message. */
export async function resolvePod(api: string, namespace: string, ref: PodRef): Promise<{ pod: string; note?: string } | { error: string }> {
  if (ref.kind === 'pod') return { pod: ref.name };
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const got = await getJson<PodListJson>(api, path, 'the Trellis API');
  if ('error' in got) return { error: apiMessage(got) };
  const pods = (got.value.items ?? []).filter((p) => ownedBy(p, ref.name)).sort(byPreference);
  const first = pods[0];
  if (!first) return { error: `Error from server (NotFound): deployments.apps "${ref.name}" not found (no pods of it in namespace ${namespace})` };
  return { pod: first.metadata.name, ...(pods.length > 1 ? { note: `Found ${pods.length} pods, using pod/${first.metadata.name}` } : {}) };
}

/** Istio's sidecar container is `istio-proxy`; Trellis' is `trellis-proxy`. Either name reaches it. */
export function containerName(name: string | undefined): string | undefined {
  return name === 'istio-proxy' ? SIDECAR_CONTAINER_NAME : name;
}

/** kubectl's wording for the API's answers: `Error from server (NotFound): ...`, else the transport error. */
export function apiMessage(got: Exclude<Fetched<unknown>, { value: unknown }>): string {
  if (got.status === 404 && got.message) return `Error from server (NotFound): ${got.message}`;
  if (got.status === 400 && got.message) return `Error from server (BadRequest): ${got.message}`;
  return got.unreachable ? `${got.error}; is \`trellis up\` running? (--api or TRELLIS_API)` : got.error;
}

/** A pod of Deployment `name`: owned by its ReplicaSet `name-<pod-template-hash>`. */
function ownedBy(p: PodJson, name: string): boolean {
  const hash = p.metadata.labels['pod-template-hash'];
  return (p.metadata.ownerReferences ?? []).some((o) => o.kind === 'ReplicaSet' && o.name === `${name}-${hash}`);
}

const ready = (p: PodJson) => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** kubectl's choice among a Deployment's pods: not terminating, ready, then the oldest. */
function byPreference(a: PodJson, b: PodJson): number {
  return (
    Number(Boolean(a.metadata.deletionTimestamp)) - Number(Boolean(b.metadata.deletionTimestamp)) ||
    Number(ready(b)) - Number(ready(a)) ||
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')
  );
}
