import type { EnvoyJson } from '@trellis/envoy-api';
import type { Subset } from '../model/istio-types.js';
import type { DestinationRule } from '../model/objects.js';
import type { Endpoint, MeshService, ServicePortInfo } from '../registry/types.js';
import {
  circuitBreakers,
  connectTimeout,
  DEFAULT_CONNECT_TIMEOUT,
  httpProtocolOptions,
  loadBalancing,
  outlierDetection,
  tcpKeepalive,
  upstreamTls,
} from './cluster-policy.js';
import { destinationRuleFor, effectivePolicy } from './destination-rules.js';
import { clusterLoadAssignment, endpointsOf } from './load-assignment.js';
import { ADS_CONFIG_SOURCE, inboundClusterName, outboundClusterName } from './names.js';
import { inboundPorts } from './targets.js';
import { clusterIstioMetadata, inboundServices } from './telemetry-metadata.js';
import type { NamedResource, TranslateInput } from './types.js';

export interface OutboundClusterSpec {
  kind: 'outbound';
  name: string;
  service: MeshService;
  port: ServicePortInfo;
  subset?: Subset;
  rule?: DestinationRule;
}

export interface InboundClusterSpec {
  kind: 'inbound';
  name: string;
  port: number;
}

export type ClusterSpec = OutboundClusterSpec | InboundClusterSpec;

/**
 * Every cluster this proxy can use: per service port the default `outbound|PORT||HOST`, plus one per
 * DestinationRule subset; and for sidecars `inbound|PORT||` per app port.
 */
export function clusterSpecs(input: TranslateInput): ClusterSpec[] {
  const out: ClusterSpec[] = [];
  for (const service of input.registry.services) {
    const rule = destinationRuleFor(input, service);
    const subsets = uniqueSubsets(rule);
    for (const port of service.ports) {
      out.push({ kind: 'outbound', name: outboundClusterName(port.port, undefined, service.hostname), service, port, rule });
      for (const subset of subsets) {
        out.push({ kind: 'outbound', name: outboundClusterName(port.port, subset.name, service.hostname), service, port, subset, rule });
      }
    }
  }
  for (const port of inboundPorts(input)) out.push({ kind: 'inbound', name: inboundClusterName(port), port });
  return out;
}

function uniqueSubsets(rule: DestinationRule | undefined): Subset[] {
  const seen = new Set<string>();
  return (rule?.spec?.subsets ?? []).filter((s) => s?.name && !seen.has(s.name) && (seen.add(s.name), true));
}

type Discovery = 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

/**
 * How the proxy finds a service's hosts: EDS for Kubernetes services and static entries; DNS for DNS
 * entries (LOGICAL_DNS for DNS_ROUND_ROBIN); for resolution NONE, EDS when the entry declares or selects
 * endpoints, else the caller's original destination. Decided by config only, so a cluster keeps its type
 * while workloads come and go.
 */
function discoveryOf(input: TranslateInput, service: MeshService): Discovery {
  switch (service.resolution) {
    case 'DNS':
      return 'STRICT_DNS';
    case 'DNS_ROUND_ROBIN':
      return 'LOGICAL_DNS';
    case 'NONE': {
      const declares = service.selector !== undefined || input.registry.workloads.some((w) => w.onlyFor === service.origin);
      return declares ? 'EDS' : 'ORIGINAL_DST';
    }
    default:
      return 'EDS';
  }
}

function policyOf(input: TranslateInput, spec: OutboundClusterSpec) {
  const policy = effectivePolicy(spec.rule, spec.port.port, spec.subset);
  return { policy, lb: loadBalancing(policy.loadBalancer, input.proxy.type) };
}

/** Whether the cluster takes its endpoints over EDS (and so needs a ClusterLoadAssignment). */
export function isEdsCluster(input: TranslateInput, spec: OutboundClusterSpec): boolean {
  return discoveryOf(input, spec.service) === 'EDS' && !policyOf(input, spec).lb.passthrough;
}

/** DNS hosts: the entry's endpoints (by name), else the host itself at the target port. */
function dnsEndpoints(input: TranslateInput, spec: OutboundClusterSpec): Endpoint[] {
  const eps = endpointsOf(input, spec);
  if (eps.length > 0 || spec.service.hostname.includes('*')) return eps;
  const port = typeof spec.port.targetPort === 'number' ? spec.port.targetPort : spec.port.port;
  const workload = {
    uid: `${spec.service.origin}/${spec.service.hostname}`, name: spec.service.hostname, namespace: spec.service.namespace,
    workloadName: spec.service.hostname, address: spec.service.hostname, labels: {}, ports: {}, locality: '', weight: 1,
    source: 'config' as const, hostOnly: true,
  };
  return [{ workload, address: spec.service.hostname, port, targetPort: port }];
}

function discoveryFields(input: TranslateInput, spec: OutboundClusterSpec, passthrough: boolean): EnvoyJson | undefined {
  let discovery = passthrough ? 'ORIGINAL_DST' : discoveryOf(input, spec.service);
  const grpc = input.proxy.type === 'grpc';
  // gRPC's xDS client knows EDS and LOGICAL_DNS only: a DNS entry is reached through its first host.
  if (grpc && discovery === 'STRICT_DNS') discovery = 'LOGICAL_DNS';
  switch (discovery) {
    case 'EDS':
      return { type: 'EDS', eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE, service_name: spec.name } };
    case 'ORIGINAL_DST':
      return grpc ? undefined : { type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' };
    default: {
      const eps = dnsEndpoints(input, spec);
      // Envoy requires exactly one host in a LOGICAL_DNS cluster.
      const hosts = discovery === 'LOGICAL_DNS' ? eps.slice(0, 1) : eps;
      if (hosts.length === 0) return undefined;
      return { type: discovery, dns_lookup_family: 'V4_ONLY', load_assignment: clusterLoadAssignment(spec.name, hosts) };
    }
  }
}

/** An outbound cluster: discovery, then the DestinationRule's policy merged for this port and subset. */
export function outboundCluster(input: TranslateInput, spec: OutboundClusterSpec): EnvoyJson | undefined {
  const { policy, lb } = policyOf(input, spec);
  const discovery = discoveryFields(input, spec, lb.passthrough);
  if (!discovery) return undefined;
  const pool = policy.connectionPool;
  return {
    name: spec.name,
    connect_timeout: connectTimeout(pool),
    // An original-destination cluster balances by itself (CLUSTER_PROVIDED); no balancer config applies.
    ...(discovery.type === 'ORIGINAL_DST' ? {} : lb.fields),
    ...discovery,
    ...circuitBreakers(pool, policy.retryBudget),
    ...outlierDetection(policy.outlierDetection),
    ...tcpKeepalive(pool),
    ...httpProtocolOptions(spec.port.protocol, pool),
    ...upstreamTls(policy.tls, spec.service.hostname, input.proxy.type),
    metadata: clusterIstioMetadata([spec.service]),
  };
}

/** `inbound|PORT||`: the app itself, at the pod's address. */
export function inboundCluster(input: TranslateInput, spec: InboundClusterSpec): EnvoyJson {
  const address = input.proxy.ips[0] ?? '127.0.0.1';
  return {
    name: spec.name,
    type: 'STATIC',
    connect_timeout: DEFAULT_CONNECT_TIMEOUT,
    ...circuitBreakers(undefined),
    load_assignment: {
      cluster_name: spec.name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: spec.port } } } }] }],
    },
    metadata: clusterIstioMetadata(inboundServices(input, spec.port)),
  };
}

/** CDS: every cluster of this proxy, or the named ones that exist. */
export function generateClusters(input: TranslateInput, names: readonly string[] | null): NamedResource[] {
  const wanted = names === null ? undefined : new Set(names);
  return clusterSpecs(input)
    .filter((s) => !wanted || wanted.has(s.name))
    .flatMap((spec) => {
      const resource = spec.kind === 'inbound' ? inboundCluster(input, spec) : outboundCluster(input, spec);
      return resource ? [{ name: spec.name, resource }] : [];
    });
}
