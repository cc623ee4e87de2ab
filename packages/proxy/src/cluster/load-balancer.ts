import type { ClusterConfig } from '../config/compiled-config.js';
import type { RouteRequest } from '../router/route-request.js';
import type { Host } from './host.js';
import { LeastRequestLoadBalancer } from './least-request.js';
import { MaglevLoadBalancer } from './maglev.js';
import { OriginalDstLoadBalancer, type HostFactory } from './original-dst.js';
import type { PrioritySet } from './priority-set.js';
import { RandomLoadBalancer } from './random.js';
import { RingHashLoadBalancer } from './ring-hash.js';
import { RoundRobinLoadBalancer } from './round-robin.js';

/** What a load balancer may read about the request. */
export interface LoadBalancerContext extends RouteRequest {
  readonly remoteAddress: string;
  /**
   * The request's hash key from its route's `hash_policy` (null: none applies, or no key in the request).
   * Hashing balancers call it; the stream computes it once, on the first call.
   */
  hashKey(): bigint | null;
}

/** Picks an endpoint for each request. Built per host set; a host set change builds a new balancer. */
export interface LoadBalancer {
  chooseHost(ctx: LoadBalancerContext | null): Host | null;
}

export type LoadBalancerFactory = (hosts: PrioritySet, config: ClusterConfig, makeHost: HostFactory) => LoadBalancer;

/** Balancers by `lb_policy` (config.lbConfig carries each one's settings). */
const FACTORIES: Record<ClusterConfig['lbPolicy'], LoadBalancerFactory> = {
  ROUND_ROBIN: (hosts, config) => new RoundRobinLoadBalancer(hosts, lbConfig(config, 'round_robin').slowStart),
  LEAST_REQUEST: (hosts, config) => new LeastRequestLoadBalancer(hosts, lbConfig(config, 'least_request')),
  RANDOM: (hosts) => new RandomLoadBalancer(hosts),
  RING_HASH: (hosts, config) => new RingHashLoadBalancer(hosts, lbConfig(config, 'ring_hash')),
  MAGLEV: (hosts, config) => new MaglevLoadBalancer(hosts, lbConfig(config, 'maglev')),
  CLUSTER_PROVIDED: (_hosts, config, makeHost) => new OriginalDstLoadBalancer(lbConfig(config, 'original_dst'), makeHost),
};

export function createLoadBalancer(hosts: PrioritySet, config: ClusterConfig, makeHost: HostFactory): LoadBalancer {
  return FACTORIES[config.lbPolicy](hosts, config, makeHost);
}

type LbConfigOf<K> = Extract<ClusterConfig['lbConfig'], { kind: K }>;

function lbConfig<K extends ClusterConfig['lbConfig']['kind']>(config: ClusterConfig, kind: K): LbConfigOf<K> {
  const c = config.lbConfig;
  if (c.kind !== kind) throw new Error(`cluster ${config.name}: lb_policy ${config.lbPolicy} compiled with ${c.kind} settings`);
  return c as LbConfigOf<K>;
}
