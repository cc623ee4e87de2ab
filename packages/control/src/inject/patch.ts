import { INJECTION_STATUS_ANNOTATION } from './policy.js';
import { injectSidecar, type InjectablePod, type InjectionContext } from './sidecar.js';

/** One RFC 6902 operation; injection only ever adds. */
export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** RFC 6901: `~` -> `~0`, `/` -> `~1` in a path segment. */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The JSON patch the mutating webhook returns for a pod: app containers' added env, the sidecar container,
 * and Istio's `sidecar.istio.io/status` annotation naming what was injected. Empty when the pod isn't injected.
 */
export function injectionPatch(pod: InjectablePod, ctx: InjectionContext): JsonPatchOp[] {
  const result = injectSidecar(pod, ctx);
  if (!result.injected) return [];
  const before = pod.spec.containers;
  const after = result.spec.containers;
  const ops: JsonPatchOp[] = [];
  before.forEach((c, i) => {
    const added = (after[i]!.env ?? []).slice(c.env?.length ?? 0);
    if (added.length === 0) return;
    if (c.env === undefined) ops.push({ op: 'add', path: `/spec/containers/${i}/env`, value: added });
    else for (const e of added) ops.push({ op: 'add', path: `/spec/containers/${i}/env/-`, value: e });
  });
  for (const c of after.slice(before.length)) ops.push({ op: 'add', path: '/spec/containers/-', value: c });

  const status = JSON.stringify({ containers: after.slice(before.length).map((c) => c.name) });
  if (pod.metadata.annotations === undefined) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: { [INJECTION_STATUS_ANNOTATION]: status } });
  } else {
    ops.push({ op: 'add', path: `/metadata/annotations/${escapePointer(INJECTION_STATUS_ANNOTATION)}`, value: status });
  }
  return ops;
}
