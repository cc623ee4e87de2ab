import { structToJson, type Node } from '@trellis/envoy-api';
import type { Labels } from '../model/istio-types.js';
import type { ContainerPort } from '../model/kube-types.js';
import type { Workload } from './types.js';
import { namedPorts } from './workloads.js';

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
  /** Where the sidecar's listeners are: Istio's 15001/15006 unless it says otherwise (TRELLIS_*_PORT metadata). */
  listenerPorts: { outbound: number; inbound: number };
}

/** Istio's capture ports: a sidecar'd workload sends mesh traffic to 15001 and receives it on 15006. */
export const SIDECAR_OUTBOUND_PORT = 15001;
export const SIDECAR_INBOUND_PORT = 15006;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function portOr(v: unknown, fallback: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : fallback;
}

/** The parts of Istio's node id `TYPE~IP~POD.NS~NS.svc.cluster.local`; missing parts are "". */
function parseNodeId(id: string): { type: string; ip: string; podDotNs: string; domain: string } {
  const [type = '', ip = '', podDotNs = '', domain = ''] = id.split('~');
  return { type, ip, podDotNs, domain };
}

function labelsOf(v: unknown): Labels {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Labels = {};
  for (const [k, val] of Object.entries(v)) if (val !== null && val !== undefined) out[k] = String(val);
  return out;
}

/** POD_PORTS is a JSON string of container ports, as Istio's injector writes it. Malformed input -> none. */
export function parsePodPorts(v: unknown): ContainerPort[] {
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((p): ContainerPort[] => {
    const port = Number(p?.containerPort);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return [];
    const out: ContainerPort = { containerPort: port };
    if (str(p.name)) out.name = p.name;
    if (str(p.protocol)) out.protocol = p.protocol;
    return [out];
  });
}

/** Reads a proxy's identity from its xDS node; whatever is missing falls back to the id, then to defaults. */
export function parseNode(node: Node | null | undefined): ProxyIdentity {
  const id = node?.id ?? '';
  const meta = structToJson(node?.metadata);
  const parts = parseNodeId(id);
  const namespace = str(meta.NAMESPACE) ?? str(parts.domain.split('.')[0]) ?? namespaceFromPodPart(parts.podDotNs) ?? 'default';
  const podPart = parts.podDotNs.endsWith(`.${namespace}`) ? parts.podDotNs.slice(0, -namespace.length - 1) : parts.podDotNs;
  const podName = str(meta.NAME) ?? str(podPart) ?? id;
  const instanceIps = (str(meta.INSTANCE_IPS) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const ips = instanceIps.length > 0 ? instanceIps : str(parts.ip) ? [parts.ip] : [];
  return {
    id,
    type: meta.GENERATOR === 'grpc' ? 'grpc' : parts.type === 'router' ? 'router' : 'sidecar',
    namespace,
    podName,
    workloadName: str(meta.WORKLOAD_NAME) ?? podName,
    labels: labelsOf(meta.LABELS),
    ips,
    ports: parsePodPorts(meta.POD_PORTS),
    listenerPorts: {
      outbound: portOr(meta.TRELLIS_OUTBOUND_PORT, SIDECAR_OUTBOUND_PORT),
      inbound: portOr(meta.TRELLIS_INBOUND_PORT, SIDECAR_INBOUND_PORT),
    },
  };
}

function namespaceFromPodPart(podDotNs: string): string | undefined {
  const dot = podDotNs.lastIndexOf('.');
  return dot > 0 ? str(podDotNs.slice(dot + 1)) : undefined;
}

/**
 * The workload a connected proxy stands for, so its pod becomes an endpoint even without config. Only
 * sidecars front their app at the inbound port; gateways and proxyless gRPC apps are reached directly.
 */
export function workloadFromProxy(p: ProxyIdentity): Workload | undefined {
  const address = p.ips[0];
  if (!address) return undefined;
  const w: Workload = {
    uid: `xds/${p.id}`,
    name: p.podName,
    namespace: p.namespace,
    workloadName: p.workloadName,
    address,
    labels: { ...p.labels },
    ports: namedPorts(p.ports),
    kind: 'Pod',
    locality: '',
    weight: 1,
    source: 'xds',
  };
  if (p.type === 'sidecar') w.sidecar = { inboundPort: p.listenerPorts.inbound };
  return w;
}
