import type { Labels } from '../model/istio-types.js';

/** Istio's port protocols (from the port name prefix, appProtocol, or ServiceEntry `protocol`). */
export type Protocol =
  | 'HTTP' | 'HTTP2' | 'GRPC' | 'GRPC-WEB' | 'HTTPS' | 'TLS' | 'TCP' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UNKNOWN';

export interface ServicePortInfo {
  name: string;
  port: number;
  protocol: Protocol;
  /** Port on the workload: a number, or a named container/WorkloadEntry port. */
  targetPort: number | string;
}

/** A service the mesh routes to: from a Kubernetes Service or a ServiceEntry host. */
export interface MeshService {
  /** Fully qualified: `name.ns.svc.cluster.local` for Kubernetes services, the host as written for ServiceEntries. */
  hostname: string;
  name: string;
  namespace: string;
  ports: readonly ServicePortInfo[];
  /** Workloads whose labels match back the service (Service selector, ServiceEntry workloadSelector). */
  selector?: Labels;
  resolution: 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  /** The object that declared it, e.g. `Service/default/reviews`. */
  origin: string;
}

/** Where a workload's existence is known from. */
export type WorkloadSource = 'xds' | 'config' | 'local';

/** A running instance (pod, VM, WorkloadEntry, ServiceEntry endpoint) that can back services. */
export interface Workload {
  /** Unique across sources, e.g. `xds/sidecar~127.0.1.2~reviews-v1-0.default~...`, `WorkloadEntry/default/vm-1`. */
  uid: string;
  /** Pod or entry name. */
  name: string;
  namespace: string;
  /** Deployment (or WorkloadEntry) the instance belongs to. */
  workloadName: string;
  address: string;
  labels: Labels;
  /** Named ports: container port names, or a WorkloadEntry's `ports` map (service port name -> number). */
  ports: Record<string, number>;
  /**
   * How `ports` is keyed: a WorkloadEntry (or ServiceEntry endpoint) by service port name, overriding the
   * service's targetPort; a pod by container port name, consulted only for named targetPorts. Default 'Pod'.
   */
  kind?: 'Pod' | 'WorkloadEntry';
  /** Set when a Trellis sidecar fronts the workload: mesh traffic goes to its inbound listener. */
  sidecar?: { inboundPort: number };
  /** `region/zone/subzone`, "" when unknown. */
  locality: string;
  /** Load-balancing weight, > 0. */
  weight: number;
  source: WorkloadSource;
  /** False for a known instance that isn't Ready (e.g. a local pod whose app isn't listening yet): no endpoints. */
  ready?: boolean;
  /** ServiceEntry inline endpoints back only their own ServiceEntry's hosts (by origin ref). */
  onlyFor?: string;
  /** A stand-in for a DNS host with no known workload behind it (no telemetry metadata names it). */
  hostOnly?: boolean;
}

/** One address:port a cluster sends traffic to. */
export interface Endpoint {
  workload: Workload;
  address: string;
  /** Where to connect: the sidecar's inbound port for sidecar'd workloads, else `targetPort`. */
  port: number;
  /** The application's port behind any sidecar. */
  targetPort: number;
}

/** An immutable view of services, workloads and endpoints at one moment. */
export interface RegistrySnapshot {
  readonly services: readonly MeshService[];
  readonly workloads: readonly Workload[];
  /**
   * Finds a service by any host form (`name`, `name.ns`, `name.ns.svc`, FQDN, ServiceEntry host), short
   * forms resolved relative to `namespace`. A `:port` suffix is ignored.
   */
  lookup(host: string, namespace?: string): MeshService | undefined;
  /** Endpoints of one service port, optionally only those whose labels include `subsetLabels`. */
  endpoints(service: MeshService, port: number, subsetLabels?: Labels): Endpoint[];
}
