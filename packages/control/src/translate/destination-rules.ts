import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
  Subset,
  TrafficPolicy,
} from '../model/istio-types.js';
import type { DestinationRule } from '../model/objects.js';
import { isExportedTo } from '../model/visibility.js';
import { wildcardMatches } from '../registry/hosts.js';
import { labelsMatch } from '../registry/labels.js';
import type { MeshService } from '../registry/types.js';
import type { TranslateInput } from './types.js';

/**
 * The policy of one cluster after Istio's MergeTrafficPolicy. The four per-port fields are taken whole from
 * the most specific level that sets them, not merged field by field inside them.
 */
export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  retryBudget?: TrafficPolicy['retryBudget'];
}

const PORT_FIELDS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

export { isExportedTo };

/** How well a rule's host names the service: exact beats any wildcard, longer wildcards beat shorter. */
function hostScore(input: TranslateInput, dr: DestinationRule, service: MeshService): number {
  const host = typeof dr.spec?.host === 'string' ? dr.spec.host.toLowerCase() : '';
  if (host === '') return 0;
  if (host.startsWith('*')) return wildcardMatches(host, service.hostname) ? host.length : 0;
  if (host === service.hostname) return Number.MAX_SAFE_INTEGER;
  return input.registry.lookup(host, dr.metadata.namespace) === service ? Number.MAX_SAFE_INTEGER : 0;
}

function appliesToProxy(input: TranslateInput, dr: DestinationRule): boolean {
  const { proxy } = input;
  if (!isExportedTo(dr.spec?.exportTo, dr.metadata.namespace, proxy.namespace)) return false;
  const selector = dr.spec?.workloadSelector?.matchLabels;
  if (!selector || Object.keys(selector).length === 0) return true;
  return dr.metadata.namespace === proxy.namespace && labelsMatch(proxy.labels, selector);
}

/**
 * The DestinationRule for a service, as Istio picks it: rules in the proxy's namespace first, then the
 * service's, then any other exported rule; within that, the most specific host; then config order.
 */
export function destinationRuleFor(input: TranslateInput, service: MeshService): DestinationRule | undefined {
  const rank = (dr: DestinationRule) =>
    dr.metadata.namespace === input.proxy.namespace ? 0 : dr.metadata.namespace === service.namespace ? 1 : 2;
  let best: { dr: DestinationRule; rank: number; score: number } | undefined;
  for (const dr of input.config.destinationRules) {
    if (!appliesToProxy(input, dr)) continue;
    const score = hostScore(input, dr, service);
    if (score === 0) continue;
    const r = rank(dr);
    if (!best || r < best.rank || (r === best.rank && score > best.score)) best = { dr, rank: r, score };
  }
  return best?.dr;
}

export function findSubset(dr: DestinationRule | undefined, name: string): Subset | undefined {
  return (dr?.spec?.subsets ?? []).find((s) => s?.name === name);
}

/** A level's own settings override what it inherits, field by field (Istio's MergeTrafficPolicy). */
function overlay(into: EffectivePolicy, from: TrafficPolicy | undefined): void {
  if (!from) return;
  for (const f of PORT_FIELDS) if (from[f] !== undefined) (into as Record<string, unknown>)[f] = from[f];
  if (from.retryBudget !== undefined) into.retryBudget = from.retryBudget;
}

/**
 * A port-level setting replaces all four per-port fields: what it leaves out falls back to the defaults,
 * not to the level above ("Traffic settings specified at the destination-level will not be inherited when
 * overridden by port-level settings").
 */
function replaceForPort(into: EffectivePolicy, policy: TrafficPolicy | undefined, port: number): void {
  const p = (policy?.portLevelSettings ?? []).find((s) => s?.port?.number === port);
  if (!p) return;
  for (const f of PORT_FIELDS) (into as Record<string, unknown>)[f] = p[f];
}

/**
 * The policy for one port of one (sub)set, Istio's MergeTrafficPolicy: the rule, replaced by the rule's
 * port-level setting for this port; then the subset's own fields, replaced by the subset's port-level
 * setting for this port.
 */
export function effectivePolicy(dr: DestinationRule | undefined, port: number, subset?: Subset): EffectivePolicy {
  const out: EffectivePolicy = {};
  const rule = dr?.spec?.trafficPolicy;
  overlay(out, rule);
  replaceForPort(out, rule, port);
  overlay(out, subset?.trafficPolicy);
  replaceForPort(out, subset?.trafficPolicy, port);
  for (const f of PORT_FIELDS) if (out[f] === undefined) delete out[f];
  return out;
}
