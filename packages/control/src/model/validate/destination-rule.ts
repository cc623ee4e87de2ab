/** DestinationRule (Istio's ValidateDestinationRule). */
import type { DestinationRuleSpec } from '../istio-types.js';
import { each, type ValidationContext } from './context.js';
import { validateExportTo } from './export-to.js';
import { validateWildcardDomain } from './hosts.js';
import { validateSubsetName } from './http-route.js';
import { validateLabels, validateWorkloadSelector } from './labels.js';
import type { FieldPath } from './path.js';
import { validateTrafficPolicy } from './traffic-policy.js';

export function validateDestinationRule(spec: DestinationRuleSpec, ctx: ValidationContext, path: FieldPath): void {
  const { r } = ctx;
  if (spec.host === undefined) r.error([...path, 'host'], 'host is required');
  else {
    const err = validateWildcardDomain(spec.host);
    if (err) r.error([...path, 'host'], err);
  }
  validateTrafficPolicy(spec.trafficPolicy, [...path, 'trafficPolicy'], r);
  const names = new Set<string>();
  each(spec.subsets, [...path, 'subsets'], (subset, at) => {
    if (subset.name === undefined) r.error([...at, 'name'], 'subset name cannot be empty');
    else {
      if (names.has(subset.name)) r.error([...at, 'name'], `duplicate subset names: ${subset.name}`);
      names.add(subset.name);
      validateSubsetName(subset.name, [...at, 'name'], r);
    }
    validateLabels(subset.labels, [...at, 'labels'], r);
    validateTrafficPolicy(subset.trafficPolicy, [...at, 'trafficPolicy'], r);
  });
  const selector = spec.workloadSelector;
  validateExportTo(spec.exportTo, ctx.namespace, [...path, 'exportTo'], r, { destinationRuleWithSelector: selector !== undefined });
  if (selector) validateWorkloadSelector(selector.matchLabels ?? {}, [...path, 'workloadSelector', 'matchLabels'], r, 'the rule will apply to all workloads in the namespace');
}
