import { isDeepStrictEqual } from 'node:util';
import { RESOURCE_KINDS, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';
import { withResources, type RawSnapshot } from '../config/raw-snapshot.js';
import { DEPENDENT_KIND, RESOURCE_TYPES } from './resource-types/index.js';

/**
 * Building the next snapshot from one response. Pure functions of (snapshot, response): the ADS client
 * decides what to do with the result.
 */

/** The names the snapshot's `kind` resources reference (listeners' routes, clusters' EDS names), sorted. */
export function referencedNames(snap: RawSnapshot, kind: ResourceKind): string[] {
  const type = RESOURCE_TYPES[kind];
  const names = new Set<string>();
  for (const value of snap.resources[kind].values()) for (const n of type.dependencies(value)) names.add(n);
  return [...names].sort();
}

/** What a kind subscribes to given a snapshot: null for LDS/CDS (wildcard), else the names referenced. */
export function wantedNames(snap: RawSnapshot, kind: ResourceKind): string[] | null {
  const parent = parentKind(kind);
  return parent ? referencedNames(snap, parent) : null;
}

function parentKind(kind: ResourceKind): ResourceKind | undefined {
  return (Object.keys(DEPENDENT_KIND) as ResourceKind[]).find((k) => DEPENDENT_KIND[k] === kind);
}

/**
 * The snapshot a response would produce. LDS/CDS responses replace their type entirely; RDS/EDS responses
 * update the names they carry, among those still subscribed (anything else is ignored). Resources whose
 * referrer is gone (a route no listener names, endpoints of a removed cluster) are dropped in the same
 * step, so a snapshot never holds orphans.
 */
export function candidateSnapshot(
  snap: RawSnapshot,
  kind: ResourceKind,
  version: string,
  received: ReadonlyMap<string, EnvoyJson>,
): { candidate: RawSnapshot; ignored: string[] } {
  const ignored: string[] = [];
  let resources: ReadonlyMap<string, EnvoyJson> = received;
  const wanted = wantedNames(snap, kind);
  if (!RESOURCE_TYPES[kind].allResourcesRequiredInSotW && wanted) {
    const keep = new Set(wanted);
    const merged = new Map([...snap.resources[kind]].filter(([name]) => keep.has(name)));
    for (const [name, value] of received) {
      if (keep.has(name)) merged.set(name, value);
      else ignored.push(name);
    }
    resources = merged;
  }
  let candidate = withResources(snap, kind, version, resources);
  const dependent = DEPENDENT_KIND[kind];
  if (dependent) candidate = pruneUnreferenced(candidate, dependent);
  return { candidate, ignored };
}

function pruneUnreferenced(snap: RawSnapshot, kind: ResourceKind): RawSnapshot {
  const keep = new Set(wantedNames(snap, kind) ?? []);
  const current = snap.resources[kind];
  if ([...current.keys()].every((n) => keep.has(n))) return snap;
  const kept = new Map([...current].filter(([name]) => keep.has(name)));
  return withResources(snap, kind, snap.versions[kind], kept);
}

/** Same versions and same resources: accepting it would change nothing (e.g. the resend after a reconnect). */
export function sameSnapshot(a: RawSnapshot, b: RawSnapshot): boolean {
  return RESOURCE_KINDS.every((k) => a.versions[k] === b.versions[k] && sameResources(a.resources[k], b.resources[k]));
}

function sameResources(a: ReadonlyMap<string, EnvoyJson>, b: ReadonlyMap<string, EnvoyJson>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [name, value] of a) if (!b.has(name) || !isDeepStrictEqual(value, b.get(name))) return false;
  return true;
}
