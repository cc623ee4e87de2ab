import { splitHostPort } from '../registry/hosts.js';
import { labelsMatch } from '../registry/labels.js';
import { isHttpProtocol } from '../registry/protocol.js';
import type { MeshService, ServicePortInfo } from '../registry/types.js';
import type { TranslateInput } from './types.js';

/** A service port named by a proxyless gRPC target (`greeter`, `greeter.default.svc.cluster.local:50051`). */
export interface NamedTarget {
  name: string;
  service: MeshService;
  port: ServicePortInfo;
}

/** The port a port-less target means: the service's only port, else its first gRPC/HTTP2 port, else its first HTTP port. */
function defaultPort(service: MeshService): ServicePortInfo | undefined {
  const ports = service.ports;
  if (ports.length === 1) return ports[0];
  return (
    ports.find((p) => p.protocol === 'GRPC' || p.protocol === 'HTTP2') ??
    ports.find((p) => isHttpProtocol(p.protocol))
  );
}

/** Resolves a listener/route name that is a service host, in any form, with or without `:port`. */
export function resolveNamedTarget(input: TranslateInput, name: string): NamedTarget | undefined {
  const { port } = splitHostPort(name);
  const service = input.registry.lookup(name, input.proxy.namespace);
  if (!service) return undefined;
  const servicePort = port === undefined ? defaultPort(service) : service.ports.find((p) => p.port === port);
  return servicePort ? { name, service, port: servicePort } : undefined;
}

/**
 * The app ports behind a sidecar: its container ports, then the target ports of the services that select
 * it (a pod that declares no container ports still serves them).
 */
export function inboundPorts(input: TranslateInput): number[] {
  const { proxy, registry } = input;
  if (proxy.type !== 'sidecar') return [];
  const ports = new Set<number>(proxy.ports.map((p) => p.containerPort));
  for (const service of registry.services) {
    const selects = service.selector && service.namespace === proxy.namespace && labelsMatch(proxy.labels, service.selector);
    if (!selects) continue;
    for (const p of service.ports) {
      const target = typeof p.targetPort === 'number' ? p.targetPort : proxy.ports.find((c) => c.name === p.targetPort)?.containerPort;
      if (target) ports.add(target);
    }
  }
  return [...ports];
}
