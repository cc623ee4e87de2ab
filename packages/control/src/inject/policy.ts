import type { Labels } from '../model/istio-types.js';

/** Istio's namespace label that turns injection on (`enabled`) or off (`disabled`) for a namespace. */
export const NAMESPACE_INJECTION_LABEL = 'istio-injection';
/** Istio's per-pod switch; a label since Istio 1.10, still honoured as an annotation. */
export const POD_INJECTION_KEY = 'sidecar.istio.io/inject';
/** Istio marks injected pods with this annotation, so a pod is never injected twice. */
export const INJECTION_STATUS_ANNOTATION = 'sidecar.istio.io/status';
/** The injected container's name (Istio's is istio-proxy). */
export const SIDECAR_CONTAINER_NAME = 'trellis-proxy';

/** Kubernetes' own namespaces, which Istio never injects. */
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public']);
/** The YAML 1.1 booleans Istio's injector reads as "true" (pkg/kube/inject: y, yes, true, on). */
const TRUE_VALUES = new Set(['y', 'yes', 'true', 'on']);

export interface PodMetaForPolicy {
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

export interface InjectionDecision {
  inject: boolean;
  /** Why, in words a user can act on. */
  reason: string;
}

/**
 * Istio's injection policy as its default MutatingWebhookConfiguration and injector apply it:
 * - namespace `istio-injection=enabled`: inject, unless the pod opts out with `sidecar.istio.io/inject`
 *   set to anything that isn't true (label first, then the older annotation);
 * - namespace without the label: inject only pods labelled `sidecar.istio.io/inject: "true"`;
 * - namespace `istio-injection=disabled`, Kubernetes system namespaces, hostNetwork pods: never.
 */
export function injectionDecision(
  meta: PodMetaForPolicy,
  namespaceLabels: Labels,
  opts: { hostNetwork?: boolean } = {},
): InjectionDecision {
  const namespace = meta.namespace ?? 'default';
  if (opts.hostNetwork) return { inject: false, reason: 'the pod uses hostNetwork' };
  if (IGNORED_NAMESPACES.has(namespace)) return { inject: false, reason: `namespace ${namespace} is never injected` };

  const nsSetting = namespaceLabels[NAMESPACE_INJECTION_LABEL];
  const label = meta.labels?.[POD_INJECTION_KEY];
  const annotation = meta.annotations?.[POD_INJECTION_KEY];

  if (nsSetting === 'enabled') {
    const podSetting = label ?? annotation;
    const where = label !== undefined ? 'label' : 'annotation';
    if (podSetting !== undefined && podSetting !== '' && !TRUE_VALUES.has(podSetting.toLowerCase())) {
      return { inject: false, reason: `pod ${where} ${POD_INJECTION_KEY}=${podSetting}` };
    }
    return { inject: true, reason: `namespace ${namespace} has ${NAMESPACE_INJECTION_LABEL}=enabled` };
  }
  if (nsSetting !== undefined) {
    return { inject: false, reason: `namespace ${namespace} has ${NAMESPACE_INJECTION_LABEL}=${nsSetting}` };
  }
  // The webhook's object selector matches the label's exact value "true"; the annotation alone doesn't reach it.
  if (label === 'true') return { inject: true, reason: `pod label ${POD_INJECTION_KEY}=true` };
  return {
    inject: false,
    reason: `namespace ${namespace} has no ${NAMESPACE_INJECTION_LABEL}=enabled label and the pod no ${POD_INJECTION_KEY}=true label`,
  };
}
