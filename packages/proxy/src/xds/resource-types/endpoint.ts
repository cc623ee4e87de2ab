import type { EnvoyJson } from '@trellis/envoy-api';
import { list, obj, str, XdsResourceType, type Problem } from './resource-type.js';

/** EDS: envoy.config.endpoint.v3.ClusterLoadAssignment, named by cluster_name (the EDS service name). */
export class EndpointResourceType extends XdsResourceType {
  readonly kind = 'endpoint' as const;
  readonly allResourcesRequiredInSotW = false;

  nameOf(value: EnvoyJson): string {
    return str(value.cluster_name);
  }

  protected override get nameField(): string {
    return 'cluster_name';
  }

  protected problems(cla: EnvoyJson): Problem[] {
    const problems: Problem[] = [];
    list(cla.endpoints).forEach((locality, i) =>
      list(locality.lb_endpoints).forEach((lb, j) => problems.push(...lbEndpointProblems(`endpoints[${i}].lb_endpoints[${j}]`, lb))),
    );
    return problems;
  }
}

function lbEndpointProblems(at: string, lb: EnvoyJson): Problem[] {
  const socket = obj(obj(obj(lb.endpoint)?.address)?.socket_address);
  if (!socket) return [{ field: `${at}.endpoint.address.socket_address`, reason: 'an endpoint needs a socket address' }];
  const problems: Problem[] = [];
  if (!str(socket.address)) problems.push({ field: `${at}.endpoint.address.socket_address.address`, reason: 'must not be empty' });
  const port = socket.port_value;
  if (typeof port !== 'number' || port < 1 || port > 65535) {
    problems.push({ field: `${at}.endpoint.address.socket_address.port_value`, reason: 'must be a port from 1 to 65535' });
  }
  const weight = obj(lb.load_balancing_weight)?.value;
  if (weight !== undefined && (typeof weight !== 'number' || weight < 1)) {
    problems.push({ field: `${at}.load_balancing_weight`, reason: 'must be at least 1' });
  }
  return problems;
}
