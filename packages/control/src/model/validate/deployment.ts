/** Kubernetes Deployment (apps/v1): replicas, a selector that matches the template, a runnable pod spec. */
import type { DeploymentSpec } from '../kube-types.js';
import type { ValidationContext } from './context.js';
import { isPlainObject } from './field-walker.js';
import { checkLabelMap, checkObject, checkOptionalInt } from './kube-fields.js';
import type { FieldPath } from './path.js';
import { validatePodSpec } from './pod-spec.js';

export function validateDeployment(raw: unknown, ctx: ValidationContext, path: FieldPath): DeploymentSpec | undefined {
  const { r } = ctx;
  if (raw === undefined || raw === null) {
    r.error(path, 'spec is required');
    return undefined;
  }
  if (!checkObject(raw, path, r)) return undefined;
  checkOptionalInt(raw.replicas, [...path, 'replicas'], r, 0);

  const selector = raw.selector;
  const matchLabels = isPlainObject(selector) ? selector.matchLabels : undefined;
  if (selector === undefined || selector === null) r.error([...path, 'selector'], 'selector is required');
  else if (checkObject(selector, [...path, 'selector'], r)) {
    checkLabelMap(matchLabels, [...path, 'selector', 'matchLabels'], r);
    if (!isPlainObject(matchLabels) || Object.keys(matchLabels).length === 0) {
      if (!selector.matchExpressions) r.error([...path, 'selector'], 'empty selector is invalid for deployment');
    }
  }

  const template = raw.template;
  const at = [...path, 'template'];
  if (template === undefined || template === null) {
    r.error(at, 'template is required');
    return undefined;
  }
  if (!checkObject(template, at, r)) return undefined;
  const meta = template.metadata;
  const labels = isPlainObject(meta) ? meta.labels : undefined;
  if (meta !== undefined && meta !== null && checkObject(meta, [...at, 'metadata'], r)) {
    checkLabelMap(labels, [...at, 'metadata', 'labels'], r);
  }
  if (isPlainObject(matchLabels)) {
    const tl = isPlainObject(labels) ? labels : {};
    const mismatch = Object.entries(matchLabels).find(([k, v]) => tl[k] !== v);
    if (mismatch) r.error([...at, 'metadata', 'labels'], `selector does not match template labels (needs ${mismatch[0]}: ${String(mismatch[1])})`);
  }
  return validatePodSpec(template.spec, [...at, 'spec'], r) ? (raw as unknown as DeploymentSpec) : undefined;
}
