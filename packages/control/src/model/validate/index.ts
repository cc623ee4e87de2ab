/** Per-kind validation: each kind's spec rules, over the Istio field schema or the Kubernetes checks. */
export { Reporter, type Finding } from './reporter.js';
export { formatPath, type FieldPath, type PathSegment } from './path.js';
export type { ValidationContext } from './context.js';
export { validateVirtualService } from './virtual-service.js';
export { validateDestinationRule } from './destination-rule.js';
export { validateGateway } from './gateway.js';
export { validateServiceEntry } from './service-entry.js';
export { validateWorkloadEntry } from './workload-entry.js';
export { validateService } from './service.js';
export { validateDeployment } from './deployment.js';
export { validatePod, validatePodStatus } from './pod.js';
export { validateSecret } from './secret.js';
