import type { EnvoyJson } from '@trellis/envoy-api';
import type { HeaderOperations, Headers } from '../model/istio-types.js';

/** Header edits in Envoy's field names, for a Route or a WeightedCluster.ClusterWeight. */
export interface HeaderEdits {
  request_headers_to_add?: EnvoyJson[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: EnvoyJson[];
  response_headers_to_remove?: string[];
}

export interface TranslatedHeaders {
  edits: HeaderEdits;
  /** `request.set` of `host`/`:authority` is an authority rewrite in Istio, not a header edit. */
  authority?: string;
}

const isAuthority = (name: string) => name === 'host' || name === ':authority';
/** Envoy refuses to add or remove pseudo-headers and Host through these lists. */
const editable = (name: string) => name !== '' && !name.startsWith(':') && name !== 'host';

function additions(ops: HeaderOperations | undefined): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  const push = (set: Record<string, string> | undefined, append_action: string) => {
    for (const [key, value] of Object.entries(set ?? {})) {
      if (editable(key.toLowerCase())) out.push({ header: { key, value: String(value) }, append_action });
    }
  };
  push(ops?.set, 'OVERWRITE_IF_EXISTS_OR_ADD');
  push(ops?.add, 'APPEND_IF_EXISTS_OR_ADD');
  return out;
}

const removals = (ops: HeaderOperations | undefined) => (ops?.remove ?? []).filter((n) => typeof n === 'string' && editable(n.toLowerCase()));

/** Istio's translateHeadersOperations: set overwrites, add appends, remove removes. */
export function translateHeaders(h: Headers | undefined): TranslatedHeaders {
  const edits: HeaderEdits = {};
  const reqAdd = additions(h?.request);
  const reqRemove = removals(h?.request);
  const respAdd = additions(h?.response);
  const respRemove = removals(h?.response);
  if (reqAdd.length) edits.request_headers_to_add = reqAdd;
  if (reqRemove.length) edits.request_headers_to_remove = reqRemove;
  if (respAdd.length) edits.response_headers_to_add = respAdd;
  if (respRemove.length) edits.response_headers_to_remove = respRemove;
  // Istio reads an authority from `add` too; `set` wins when both name one.
  const authorityIn = (ops: Record<string, string> | undefined) => Object.entries(ops ?? {}).find(([k]) => isAuthority(k.toLowerCase()))?.[1];
  const authority = authorityIn(h?.request?.set) || authorityIn(h?.request?.add);
  return authority ? { edits, authority: String(authority) } : { edits };
}

/** Concatenates two sets of edits (route level then destination level, as Istio appends them). */
export function mergeEdits(a: HeaderEdits, b: HeaderEdits): HeaderEdits {
  const out: HeaderEdits = {};
  for (const key of ['request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove'] as const) {
    const list = [...(a[key] ?? []), ...(b[key] ?? [])];
    if (list.length) (out as Record<string, unknown>)[key] = list;
  }
  return out;
}
