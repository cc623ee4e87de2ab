import type { Labels } from '../model/istio-types.js';
import type { MeshConfig } from '../model/mesh-config.js';
import { expandKubeHost, splitHostPort, wildcardMatches } from './hosts.js';
import { labelsMatch } from './labels.js';
import { servicesFromConfig } from './services.js';
import type { Endpoint, MeshService, RegistrySnapshot, ServicePortInfo, Workload } from './types.js';
import { mergeWorkloads, workloadsFromConfig } from './workloads.js';

/**
 * Builds an immutable registry from config plus the workloads known at run time (sidecars connected over
 * xDS, pods started by local mode).
 */
export function buildRegistry(config: MeshConfig, dynamic: readonly Workload[]): RegistrySnapshot {
  return new Snapshot(servicesFromConfig(config), mergeWorkloads(workloadsFromConfig(config), dynamic));
}

/** Whether a workload backs a service: ServiceEntry endpoints their own entry, others by selector in the namespace. */
export function backs(w: Workload, s: MeshService): boolean {
  if (w.onlyFor !== undefined) return w.onlyFor === s.origin;
  return s.selector !== undefined && w.namespace === s.namespace && labelsMatch(w.labels, s.selector);
}

/**
 * The workload's port for a service port. A WorkloadEntry's `ports` (keyed by service port name) override
 * the targetPort; a named targetPort is looked up in the workload's named ports. Undefined when a named
 * port doesn't exist on a pod: Kubernetes makes no endpoint for it either.
 */
export function resolveTargetPort(w: Workload, p: ServicePortInfo): number | undefined {
  if (w.kind === 'WorkloadEntry') {
    const byName = p.name ? w.ports[p.name] : undefined;
    if (byName) return byName;
    return typeof p.targetPort === 'number' ? p.targetPort : (w.ports[p.targetPort] ?? p.port);
  }
  return typeof p.targetPort === 'number' ? p.targetPort : w.ports[p.targetPort];
}

class Snapshot implements RegistrySnapshot {
  private readonly byHost = new Map<string, MeshService>();
  /** Wildcard ServiceEntry hosts, most specific (longest) first. */
  private readonly wildcards: MeshService[];
  private readonly backing = new Map<MeshService, Workload[]>();

  constructor(
    readonly services: readonly MeshService[],
    readonly workloads: readonly Workload[],
  ) {
    for (const s of services) this.byHost.set(s.hostname, s);
    this.wildcards = services.filter((s) => s.hostname.startsWith('*')).sort((a, b) => b.hostname.length - a.hostname.length);
    Object.freeze(this.services);
    Object.freeze(this.workloads);
  }

  lookup(host: string, namespace = 'default'): MeshService | undefined {
    if (typeof host !== 'string' || host === '') return undefined;
    const { host: name } = splitHostPort(host.trim());
    for (const candidate of expandKubeHost(name, namespace)) {
      const s = this.byHost.get(candidate);
      if (s) return s;
    }
    return this.wildcards.find((s) => wildcardMatches(s.hostname, name));
  }

  endpoints(service: MeshService, port: number, subsetLabels?: Labels): Endpoint[] {
    const servicePort = service.ports.find((p) => p.port === port);
    if (!servicePort) return [];
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const w of this.backingWorkloads(service)) {
      if (w.ready === false) continue;
      if (subsetLabels && !labelsMatch(w.labels, subsetLabels)) continue;
      const targetPort = resolveTargetPort(w, servicePort);
      if (targetPort === undefined) continue;
      const ep: Endpoint = { workload: w, address: w.address, port: w.sidecar?.inboundPort ?? targetPort, targetPort };
      // The same address:port twice would be one host counted twice; gRPC rejects such an assignment.
      const key = `${ep.address}:${ep.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(ep);
    }
    return out;
  }

  private backingWorkloads(service: MeshService): Workload[] {
    let list = this.backing.get(service);
    if (!list) {
      list = this.workloads.filter((w) => backs(w, service));
      this.backing.set(service, list);
    }
    return list;
  }
}
