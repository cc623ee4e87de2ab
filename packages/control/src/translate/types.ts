import type { EnvoyJson, ResourceKind } from '@trellis/envoy-api';
import type { MeshConfig } from '../model/mesh-config.js';
import type { RegistrySnapshot } from '../registry/types.js';
import type { ProxyIdentity } from '../registry/proxy-identity.js';

/** Everything translation reads. Translation is a pure function of this. */
export interface TranslateInput {
  config: MeshConfig;
  registry: RegistrySnapshot;
  proxy: ProxyIdentity;
}

/** One Envoy resource in object form (see EnvoyJson), without `@type`: the xDS layer packs it. */
export interface NamedResource {
  name: string;
  resource: EnvoyJson;
}

/**
 * Generates the resources of one type for one proxy. `names === null` is a wildcard subscription
 * (everything that applies to this proxy); otherwise only the named resources that exist.
 */
export type GenerateResources = (input: TranslateInput, kind: ResourceKind, names: readonly string[] | null) => NamedResource[];
