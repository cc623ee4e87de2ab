import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  Subset,
  TrafficPolicy,
} from '../model/istio-types.js';
import type { DestinationRule } from '../model/objects.js';
import { wildcardMatches } from '../registry/hosts.js';
import { labelsMatch } from '../registry/labels.js';
import type { MeshService } from '../registry/types.js';
import type { TranslateInput } from './types.js';

/** The four policy fields Istio merges as wholes (MergeTrafficPolicy), not field by field inside them. */
export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

const POLICY_FIELDS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

/** exportTo: absent or `*` = everywhere, `.` = own namespace, else the listed namespaces. */
export function isExportedTo(exportTo: readonly string[] | undefined, ownNamespace: string, namespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && ownNamespace === namespace));
}

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

function overlay(into: EffectivePolicy, from: TrafficPolicy | PortTrafficPolicy | undefined): void {
  if (!from) return;
  for (const f of POLICY_FIELDS) if (from[f] !== undefined) (into as Record<string, unknown>)[f] = from[f];
}

function portLevel(policy: TrafficPolicy | undefined, port: number): PortTrafficPolicy | undefined {
  return (policy?.portLevelSettings ?? []).find((p) => p?.port?.number === port);
}

/**
 * The policy for one port of one (sub)set, Istio's MergeTrafficPolicy: rule < rule's port-level setting <
 * subset < subset's port-level setting. Each of loadBalancer, connectionPool, outlierDetection and tls is
 * taken whole from the most specific level that sets it; the others fall through.
 */
export function effectivePolicy(dr: DestinationRule | undefined, port: number, subset?: Subset): EffectivePolicy {
  const out: EffectivePolicy = {};
  const rule = dr?.spec?.trafficPolicy;
  overlay(out, rule);
  overlay(out, portLevel(rule, port));
  overlay(out, subset?.trafficPolicy);
  overlay(out, portLevel(subset?.trafficPolicy, port));
  return out;
}
