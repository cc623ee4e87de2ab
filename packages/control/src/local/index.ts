/** Local mode: Deployments run as local processes, each pod on its own loopback IP. */
export { LocalCluster, type LocalClusterOptions, type LocalClusterPlane } from './local-cluster.js';
export { LoopbackIpAllocator } from './ip-allocator.js';
export { templateHash, podName } from './pod-names.js';
export { containerEnv, commandLine, expandVars, fieldValue, ContainerConfigError, LOCAL_NODE, type PodFacts } from './container-env.js';
export { LogBuffer, type LogEntry } from './log-buffer.js';
export { DEFAULT_BACKOFF, type RestartBackoff } from './container-process.js';
export type * from './types.js';
export { INGRESS_GATEWAY, BUILT_IN_FILE, definesIngressGateway, ingressGatewayObjects, ingressGatewayDefaults, type IngressGatewayOptions } from './ingress-gateway.js';
