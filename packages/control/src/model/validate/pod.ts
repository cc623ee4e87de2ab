/** Kubernetes Pod: its spec, and the status fields the registry reads (podIP, phase). */
import type { PodSpec, PodStatus } from '../kube-types.js';
import type { ValidationContext } from './context.js';
import { isIPAddress } from './hosts.js';
import { checkObject, checkOptionalString } from './kube-fields.js';
import type { FieldPath } from './path.js';
import { validatePodSpec } from './pod-spec.js';

export function validatePod(raw: unknown, ctx: ValidationContext, path: FieldPath): PodSpec | undefined {
  return validatePodSpec(raw, path, ctx.r) ? raw : undefined;
}

export function validatePodStatus(raw: unknown, ctx: ValidationContext, path: FieldPath): PodStatus {
  const { r } = ctx;
  if (raw === undefined || raw === null) return {};
  if (!checkObject(raw, path, r)) return {};
  if (checkOptionalString(raw.podIP, [...path, 'podIP'], r) && typeof raw.podIP === 'string' && raw.podIP !== '' && !isIPAddress(raw.podIP)) {
    r.error([...path, 'podIP'], `${raw.podIP} is not a valid IP`);
  }
  checkOptionalString(raw.phase, [...path, 'phase'], r);
  return raw as PodStatus;
}
