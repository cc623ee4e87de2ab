import type { ClusterConfig } from '../config/compiled-config.js';
import type { RouteRequest } from '../router/route-request.js';
import type { Host } from './host.js';
import type { PrioritySet } from './priority-set.js';
import { RoundRobinLoadBalancer } from './round-robin.js';

/** What a load balancer may read about the request (hash policies use it). */
export interface LoadBalancerContext extends RouteRequest {
  readonly remoteAddress: string;
}

/** Picks an endpoint for each request. Built per host set; a host set change builds a new balancer. */
export interface LoadBalancer {
  chooseHost(ctx: LoadBalancerContext | null): Host | null;
}

export type LoadBalancerFactory = (hosts: PrioritySet, config: ClusterConfig) => LoadBalancer;

/**
 * Balancers by `lb_policy`. Round robin is implemented; the other policies Envoy offers are accepted and
 * balanced round-robin until their own balancers are added here.
 */
const FACTORIES: Record<ClusterConfig['lbPolicy'], LoadBalancerFactory> = {
  ROUND_ROBIN: (hosts) => new RoundRobinLoadBalancer(hosts),
  LEAST_REQUEST: (hosts) => new RoundRobinLoadBalancer(hosts),
  RANDOM: (hosts) => new RoundRobinLoadBalancer(hosts),
  RING_HASH: (hosts) => new RoundRobinLoadBalancer(hosts),
  MAGLEV: (hosts) => new RoundRobinLoadBalancer(hosts),
};

export function createLoadBalancer(hosts: PrioritySet, config: ClusterConfig): LoadBalancer {
  return FACTORIES[config.lbPolicy](hosts, config);
}
