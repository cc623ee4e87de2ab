import { INGRESS_GATEWAY, SIDECAR_PORTS, type LocalCluster, type LocalPodStatus } from '@trellis/control';

interface ListenerStatusJson {
  listener_statuses?: { name: string; local_address?: { socket_address?: { address?: string; port_value?: number } }; trellis_tls?: boolean }[];
}

/** How often the gateway's listeners are looked at: Gateway edits open and close ports while the mesh runs. */
const POLL_MS = 1000;

/** A gateway pod's listeners from its admin `/listeners` (Envoy's JSON form): `name -> URL`. */
async function gatewayUrls(pod: LocalPodStatus): Promise<Map<string, string>> {
  const res = await fetch(`http://${pod.podIP}:${SIDECAR_PORTS.admin}/listeners?format=json`, { signal: AbortSignal.timeout(1000) });
  const json = (await res.json()) as ListenerStatusJson;
  const out = new Map<string, string>();
  for (const l of json.listener_statuses ?? []) {
    const sa = l.local_address?.socket_address;
    if (sa?.address && sa.port_value) out.set(l.name, `${l.trellis_tls ? 'https' : 'http'}://${sa.address}:${sa.port_value}`);
  }
  return out;
}

const isGatewayPod = (p: LocalPodStatus) => p.ready && !p.deletedAt && p.labels.istio === INGRESS_GATEWAY.labels.istio;

/**
 * Prints where the ingress gateway serves, and again whenever that changes: one line per listener, e.g.
 * `gateway istio-system/istio-ingressgateway-…: http://127.0.1.9:8080 (listener 0.0.0.0_8080)`. The address is
 * the one the gateway really bound (a port it may not bind moves up by 8000). Returns a stop function.
 */
export function watchGatewayUrls(cluster: LocalCluster, log: (line: string) => void): () => void {
  const shown = new Map<string, string>();
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const seen = new Set<string>();
      for (const pod of cluster.list().filter(isGatewayPod)) {
        const urls = await gatewayUrls(pod).catch(() => undefined);
        if (!urls) continue;
        for (const [name, url] of urls) {
          const key = `${pod.namespace}/${pod.name} ${name}`;
          seen.add(key);
          if (shown.get(key) !== url) log(`gateway ${pod.namespace}/${pod.name}: ${url} (listener ${name})`);
          shown.set(key, url);
        }
      }
      for (const key of [...shown.keys()].filter((k) => !seen.has(k))) shown.delete(key);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), POLL_MS);
  timer.unref();
  void check();
  return () => clearInterval(timer);
}
