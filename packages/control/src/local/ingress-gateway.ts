import { SIDECAR_CONTAINER_NAME, SIDECAR_PORTS } from '../inject/index.js';
import type { Labels } from '../model/istio-types.js';
import type { ConfigObject, Deployment, Service } from '../model/objects.js';

/**
 * Local mode's ingress gateway, as Istio's default profile installs it: Deployment and Service
 * `istio-ingressgateway` in `istio-system`, pods labelled `istio: ingressgateway` (what Gateways select,
 * e.g. Bookinfo's), the Service mapping 80 -> 8080 and 443 -> 8443 so a Gateway on port 80 is served
 * unprivileged on 8080 (the control plane translates Service ports to target ports for gateways).
 */
export const INGRESS_GATEWAY = Object.freeze({
  namespace: 'istio-system',
  name: 'istio-ingressgateway',
  labels: Object.freeze({ app: 'istio-ingressgateway', istio: 'ingressgateway' }) as Readonly<Labels>,
});

/** Where built-in objects say they come from (containers run in the current folder). */
export const BUILT_IN_FILE = '<built-in>';

export interface IngressGatewayOptions {
  /** The sidecar command (`trellis proxy`); the gateway runs it with `--gateway`. */
  proxyCommand: readonly string[];
  /** The control plane's xDS address, `host:port`. */
  controlPlane: string;
}

/** Whether the folder runs its own ingress gateway: a Deployment or Pod labelled `istio: ingressgateway`. */
export function definesIngressGateway(objects: readonly ConfigObject[]): boolean {
  const isGateway = (labels: Labels | undefined) => labels?.istio === INGRESS_GATEWAY.labels.istio;
  return objects.some(
    (o) => (o.kind === 'Deployment' && isGateway(o.spec?.template?.metadata?.labels)) || (o.kind === 'Pod' && isGateway(o.metadata.labels)),
  );
}

const meta = (labels: Labels = {}) => ({ name: INGRESS_GATEWAY.name, namespace: INGRESS_GATEWAY.namespace, labels, annotations: {} });
const origin = { file: BUILT_IN_FILE, doc: 0 };
const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/**
 * The gateway's Deployment (one pod running `trellis proxy --gateway`, named like a sidecar container so
 * local mode probes its /healthz/ready) and its Service.
 */
export function ingressGatewayObjects(opts: IngressGatewayOptions): [Deployment, Service] {
  const labels = { ...INGRESS_GATEWAY.labels };
  const deployment: Deployment = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: meta(labels),
    origin,
    spec: {
      replicas: 1,
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          containers: [
            {
              name: SIDECAR_CONTAINER_NAME,
              command: [...opts.proxyCommand, '--gateway'],
              env: [
                { name: 'TRELLIS_CONTROL_PLANE', value: opts.controlPlane },
                fieldEnv('TRELLIS_NAMESPACE', 'metadata.namespace'),
                fieldEnv('TRELLIS_POD_NAME', 'metadata.name'),
                fieldEnv('TRELLIS_POD_IP', 'status.podIP'),
                { name: 'TRELLIS_WORKLOAD', value: INGRESS_GATEWAY.name },
                { name: 'TRELLIS_LABELS', value: JSON.stringify(labels) },
              ],
              ports: [
                { name: 'http2', containerPort: 8080, protocol: 'TCP' },
                { name: 'https', containerPort: 8443, protocol: 'TCP' },
                { name: 'status-port', containerPort: SIDECAR_PORTS.health, protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    },
  };
  const service: Service = {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: meta(labels),
    origin,
    spec: {
      selector: { ...labels },
      ports: [
        { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
    },
  };
  return [deployment, service];
}

/** The defaults local mode adds to a folder: the ingress gateway, unless the folder runs its own. */
export function ingressGatewayDefaults(opts: IngressGatewayOptions): (objects: readonly ConfigObject[]) => ConfigObject[] {
  const objects = ingressGatewayObjects(opts);
  return (folder) => (definesIngressGateway(folder) ? [] : objects);
}
