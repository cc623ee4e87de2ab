import type { MeshConfig } from '../model/mesh-config.js';
import type { ServiceEntry, Service } from '../model/objects.js';
import { objectRef } from '../model/objects.js';
import { kubeServiceFqdn } from './hosts.js';
import { nonEmptySelector } from './labels.js';
import { kubePortProtocol, serviceEntryPortProtocol } from './protocol.js';
import type { MeshService, ServicePortInfo } from './types.js';

const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;

/** IntOrString as YAML gives it: "8080" is a number, "http" a port name. */
function targetPortOf(value: number | string | undefined, fallback: number): number | string {
  if (typeof value === 'number') return isPort(value) ? value : fallback;
  if (typeof value === 'string' && value !== '') return /^\d+$/.test(value) ? Number(value) : value;
  return fallback;
}

/** A Kubernetes Service as a mesh service. UDP ports are left out: the mesh doesn't proxy UDP. */
export function serviceFromKube(svc: Service): MeshService {
  const ports: ServicePortInfo[] = (svc.spec?.ports ?? [])
    .filter((p) => isPort(p?.port) && (p.protocol ?? 'TCP').toUpperCase() !== 'UDP')
    .map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: kubePortProtocol(p),
      targetPort: targetPortOf(p.targetPort, p.port),
    }));
  return {
    hostname: kubeServiceFqdn(svc.metadata.name, svc.metadata.namespace),
    name: svc.metadata.name,
    namespace: svc.metadata.namespace,
    ports,
    selector: nonEmptySelector(svc.spec?.selector),
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    origin: objectRef(svc),
  };
}

/** One mesh service per ServiceEntry host, sharing the entry's ports, selector and resolution. */
export function servicesFromEntry(se: ServiceEntry): MeshService[] {
  const ports: ServicePortInfo[] = (se.spec?.ports ?? [])
    .filter((p) => isPort(p?.number))
    .map((p) => ({
      name: p.name ?? '',
      port: p.number,
      protocol: serviceEntryPortProtocol(p),
      targetPort: isPort(p.targetPort) ? p.targetPort : p.number,
    }));
  return (se.spec?.hosts ?? [])
    .filter((h): h is string => typeof h === 'string' && h !== '')
    .map((host) => ({
      hostname: host.toLowerCase(),
      name: host.toLowerCase(),
      namespace: se.metadata.namespace,
      ports,
      selector: nonEmptySelector(se.spec.workloadSelector?.labels),
      resolution: se.spec.resolution ?? 'NONE',
      location: se.spec.location ?? 'MESH_EXTERNAL',
      origin: objectRef(se),
    }));
}

/**
 * All services of the config, Kubernetes Services first. A hostname declared twice keeps its first
 * declaration, so lookups are unambiguous.
 */
export function servicesFromConfig(config: MeshConfig): MeshService[] {
  const all = [...config.services.map(serviceFromKube), ...config.serviceEntries.flatMap(servicesFromEntry)];
  const seen = new Set<string>();
  return all.filter((s) => !seen.has(s.hostname) && (seen.add(s.hostname), true));
}
