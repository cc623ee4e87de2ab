import type { EnvoyJson, ResourceKind } from '@trellis/envoy-api';

/**
 * The xDS resources a sidecar has accepted: per type, the version and every resource by name, exactly as
 * decoded (envoy-api object form: snake_case, enums as names, nested Anys with `@type`). Immutable: an
 * update builds a new snapshot. `/config_dump` shows this.
 */
export interface RawSnapshot {
  readonly versions: Readonly<Record<ResourceKind, string>>;
  readonly resources: Readonly<Record<ResourceKind, ReadonlyMap<string, EnvoyJson>>>;
}

export const EMPTY_SNAPSHOT: RawSnapshot = Object.freeze({
  versions: Object.freeze({ cluster: '', endpoint: '', listener: '', route: '' }),
  resources: Object.freeze({
    cluster: new Map<string, EnvoyJson>(),
    endpoint: new Map<string, EnvoyJson>(),
    listener: new Map<string, EnvoyJson>(),
    route: new Map<string, EnvoyJson>(),
  }),
});

/** Returns a new snapshot with one type's resources and version replaced. */
export function withResources(
  snap: RawSnapshot,
  kind: ResourceKind,
  version: string,
  resources: ReadonlyMap<string, EnvoyJson>,
): RawSnapshot {
  return Object.freeze({
    versions: Object.freeze({ ...snap.versions, [kind]: version }),
    resources: Object.freeze({ ...snap.resources, [kind]: resources }),
  });
}

/**
 * A config the data path cannot run. `resource` names the offending xDS resource and `field` the path inside
 * it, so the NACK's error_detail tells the operator exactly what was refused.
 */
export class ConfigRejected extends Error {
  constructor(
    readonly kind: ResourceKind,
    readonly resource: string,
    readonly field: string,
    reason: string,
  ) {
    super(`${kind} ${resource}: ${field}: ${reason}`);
  }
}
