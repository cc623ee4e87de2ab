/** Sidecar injection: Istio's policy and the pod changes, shared by local mode and the mutating webhook. */
export * from './policy.js';
export * from './sidecar.js';
export * from './patch.js';
