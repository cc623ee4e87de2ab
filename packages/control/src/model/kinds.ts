/**
 * The kinds Trellis understands: their API group and versions, whether they are namespaced, the rule
 * for their names, and how their spec is validated and typed.
 */
import { ISTIO_NETWORKING_VERSIONS, type ConfigKind } from './objects.js';
import type { ValidationContext } from './validate/context.js';
import { walkMessage, type MessageSchema } from './validate/field-walker.js';
import { DESTINATION_RULE, GATEWAY, SERVICE_ENTRY, VIRTUAL_SERVICE, WORKLOAD_ENTRY } from './validate/istio-schema.js';
import { dns1035LabelError, dns1123LabelError, dns1123SubdomainError } from './validate/kube-names.js';
import type { FieldPath } from './validate/path.js';
import { SECRET_FIELDS } from './validate/secret.js';
import {
  validateDeployment,
  validateDestinationRule,
  validateGateway,
  validatePod,
  validateSecret,
  validateService,
  validateServiceEntry,
  validateVirtualService,
  validateWorkloadEntry,
} from './validate/index.js';

export interface KindDef {
  kind: ConfigKind;
  /** API group, "" for the core group (`apiVersion: v1`). */
  group: string;
  versions: readonly string[];
  namespaced: boolean;
  /** The error for an invalid metadata.name, or undefined. */
  nameError(name: string): string | undefined;
  /** Top-level fields that stand for the spec in kinds without one (a Secret's `type`, `data`, `stringData`). */
  topLevelSpec?: readonly string[];
  /** Checks the spec and returns its typed form (undefined when unusable; errors are in ctx.r). */
  spec(raw: unknown, ctx: ValidationContext, path: FieldPath): unknown;
}

const istio = <S>(kind: ConfigKind, schema: MessageSchema, rules: (spec: S, ctx: ValidationContext, path: FieldPath) => void): KindDef => ({
  kind,
  group: 'networking.istio.io',
  versions: ISTIO_NETWORKING_VERSIONS,
  namespaced: true,
  nameError: dns1123SubdomainError,
  spec(raw, ctx, path) {
    const typed = walkMessage(schema, raw ?? {}, path, ctx.r);
    if (typed) rules(typed as S, ctx, path);
    return typed;
  },
});

export const KINDS: readonly KindDef[] = [
  istio('VirtualService', VIRTUAL_SERVICE, validateVirtualService),
  istio('DestinationRule', DESTINATION_RULE, validateDestinationRule),
  istio('Gateway', GATEWAY, validateGateway),
  istio('ServiceEntry', SERVICE_ENTRY, validateServiceEntry),
  istio('WorkloadEntry', WORKLOAD_ENTRY, validateWorkloadEntry),
  { kind: 'Namespace', group: '', versions: ['v1'], namespaced: false, nameError: dns1123LabelError, spec: () => ({}) },
  { kind: 'Service', group: '', versions: ['v1'], namespaced: true, nameError: dns1035LabelError, spec: validateService },
  { kind: 'Pod', group: '', versions: ['v1'], namespaced: true, nameError: dns1123SubdomainError, spec: validatePod },
  { kind: 'Secret', group: '', versions: ['v1'], namespaced: true, nameError: dns1123SubdomainError, topLevelSpec: SECRET_FIELDS, spec: validateSecret },
  { kind: 'Deployment', group: 'apps', versions: ['v1'], namespaced: true, nameError: dns1123SubdomainError, spec: validateDeployment },
];

export type KindLookup =
  | { found: KindDef }
  /** A kind we know, in its group, at a version we don't: a mistake, not another API. */
  | { wrongVersion: KindDef }
  | { unsupported: true };

export function lookupKind(apiVersion: string, kind: string): KindLookup {
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  const def = KINDS.find((d) => d.kind === kind && d.group === group);
  if (!def) return { unsupported: true };
  return def.versions.includes(version) ? { found: def } : { wrongVersion: def };
}

export function apiVersionsOf(def: KindDef): string[] {
  return def.versions.map((v) => (def.group ? `${def.group}/${v}` : v));
}
