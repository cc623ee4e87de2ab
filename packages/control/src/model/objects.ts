import type {
  DestinationRuleSpec,
  GatewaySpec,
  Labels,
  ServiceEntrySpec,
  VirtualServiceSpec,
  WorkloadEntrySpec,
} from './istio-types.js';
import type { DeploymentSpec, PodSpec, PodStatus, SecretSpec, ServiceSpec } from './kube-types.js';

/** Where an object came from: a file and the 0-based index of its YAML document. */
export interface Origin {
  file: string;
  doc: number;
}

export interface ObjectMeta {
  name: string;
  /** Defaults to "default" for namespaced kinds, as kubectl does; "" for Namespace. */
  namespace: string;
  labels: Labels;
  annotations: Record<string, string>;
}

interface Base<K extends string, S> {
  kind: K;
  apiVersion: string;
  metadata: ObjectMeta;
  spec: S;
  origin: Origin;
}

export type VirtualService = Base<'VirtualService', VirtualServiceSpec>;
export type DestinationRule = Base<'DestinationRule', DestinationRuleSpec>;
export type Gateway = Base<'Gateway', GatewaySpec>;
export type ServiceEntry = Base<'ServiceEntry', ServiceEntrySpec>;
export type WorkloadEntry = Base<'WorkloadEntry', WorkloadEntrySpec>;
export type Namespace = Base<'Namespace', Record<string, never>>;
export type Service = Base<'Service', ServiceSpec>;
export type Deployment = Base<'Deployment', DeploymentSpec>;
export type Pod = Base<'Pod', PodSpec> & { status: PodStatus };
/** `spec` holds the Secret's top-level `type`, `data` and `stringData`. */
export type Secret = Base<'Secret', SecretSpec>;

export type IstioObject = VirtualService | DestinationRule | Gateway | ServiceEntry | WorkloadEntry;
export type KubeObject = Namespace | Service | Deployment | Pod | Secret;
export type ConfigObject = IstioObject | KubeObject;
export type ConfigKind = ConfigObject['kind'];

export const ISTIO_KINDS = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry'] as const;
export const KUBE_KINDS = ['Namespace', 'Service', 'Deployment', 'Pod', 'Secret'] as const;
export const ISTIO_NETWORKING_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;

/** `Kind/namespace/name` (or `Namespace/name`), the way errors and status name an object. */
export function objectRef(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}
