import type { Labels } from '../model/istio-types.js';

/** True when `labels` has every key/value of `selector` (an empty selector matches everything). */
export function labelsMatch(labels: Labels, selector: Labels | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels[k] !== v) return false;
  return true;
}

/** A selector that selects something: Kubernetes and Istio treat an absent or empty selector as "none". */
export function nonEmptySelector(selector: Labels | undefined): Labels | undefined {
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}
