import type { Labels } from '../model/istio-types.js';
import type { ContainerPort } from '../model/kube-types.js';

/**
 * Who is on the other end of an xDS stream. Sidecars and gateways describe themselves in node metadata
 * with Istio's keys (NAMESPACE, NAME, LABELS, INSTANCE_IPS, WORKLOAD_NAME, POD_PORTS); proxyless gRPC
 * clients send GENERATOR=grpc, as Istio's gRPC bootstrap does.
 */
export interface ProxyIdentity {
  /** The xDS node id, e.g. `sidecar~127.0.1.2~reviews-v1-0.default~default.svc.cluster.local`. */
  id: string;
  type: 'sidecar' | 'router' | 'grpc';
  namespace: string;
  podName: string;
  workloadName: string;
  labels: Labels;
  ips: string[];
  /** The app's container ports, for inbound listeners and endpoint registration. */
  ports: ContainerPort[];
}
