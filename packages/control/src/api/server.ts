import type { IncomingMessage } from 'node:http';
import { errorMessage, json, startReplyServer, type Reply, type ReplyServer } from '../http/reply-server.js';
import type { LocalCluster } from '../local/local-cluster.js';
import { CONFIG_RESOURCES, ConfigView, type ConfigSourceView } from './config.js';
import { configPodJson, localPodJson, podList, type PodJson } from './pods.js';
import { podExec } from './pod-exec.js';
import type { TraceStore } from '../telemetry/trace-store.js';
import { tracesRoute } from '../telemetry/traces-api.js';

/** The cluster may be attached after the server starts (local mode starts it once the control plane is up). */
export type ClusterRef = LocalCluster | undefined | (() => LocalCluster | undefined);

export interface ApiServerOptions {
  host: string;
  /** 20001 by default in Trellis; 0 picks a free port. */
  port: number;
  /** Local mode's pods; without one, the API lists the Pods written in config. */
  cluster: ClusterRef;
  /** The trace collector's spans (GET /api/v1/traces...); absent when the control plane runs no collector. */
  traces?: TraceStore;
  plane: { source: ConfigSourceView };
}

export type ApiServer = ReplyServer;

/** Kubernetes' error body (a `Status`), so kubectl-minded clients read it as they would the real API's. */
const failure = (code: number, reason: string, message: string): Reply =>
  json(code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', message, reason, code });

/**
 * The API the UI and the CLI read (port 20001), in the Kubernetes API's shapes and paths:
 * GET /api/v1/pods[?namespace=NS], /api/v1/namespaces/NS/pods[/NAME[/log?container=C&tailLines=N]],
 * /api/v1/namespaces/NS/pods/NAME/exec?container=C (how to run a command in the container, for callers on this host
 * only: see pod-exec.ts).
 * Config: GET /api/v1/config (the watched folder, for `trellis apply`) and /api/v1/config/RESOURCE[?namespace=NS]
 * (the current MeshConfig's objects of a kind, e.g. virtualservices, as a List).
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const cluster = (): LocalCluster | undefined => (typeof opts.cluster === 'function' ? opts.cluster() : opts.cluster);
  const pods = (namespace?: string): PodJson[] => {
    const c = cluster();
    const all = c ? c.list().map(localPodJson) : opts.plane.source.current().pods.map(configPodJson);
    return namespace ? all.filter((p) => p.metadata.namespace === namespace) : all;
  };
  const config = new ConfigView(opts.plane.source);

  const route = (req: IncomingMessage): Reply => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return failure(405, 'MethodNotAllowed', `${req.method} is not supported`);
    const url = new URL(req.url ?? '/', 'http://api');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || parts[1] !== 'v1') return failure(404, 'NotFound', `no route ${url.pathname}`);
    const rest = parts.slice(2);
    if (rest[0] === 'config') return configRoute(config, rest.slice(1), url.searchParams);
    if (rest[0] === 'traces') return tracesRoute(opts.traces, rest.slice(1), url.searchParams, failure);
    if (rest.length === 1 && rest[0] === 'pods') return json(200, podList(pods(url.searchParams.get('namespace') || undefined)));
    if (rest[0] !== 'namespaces' || rest[2] !== 'pods' || !rest[1]) return failure(404, 'NotFound', `no route ${url.pathname}`);
    const ns = rest[1];
    if (rest.length === 3) return json(200, podList(pods(ns)));
    const name = rest[3]!;
    const pod = pods(ns).find((p) => p.metadata.name === name);
    if (!pod) return failure(404, 'NotFound', `pods "${name}" not found in namespace ${ns}`);
    if (rest.length === 4) return json(200, pod);
    if (rest.length === 5 && rest[4] === 'log') return podLog(cluster(), ns, name, url.searchParams);
    if (rest.length === 5 && rest[4] === 'exec') return podExec(cluster(), pod, url.searchParams, req.socket.remoteAddress, failure);
    return failure(404, 'NotFound', `no route ${url.pathname}`);
  };

  return startReplyServer({
    host: opts.host,
    port: opts.port,
    route,
    onError: (err) => failure(500, 'InternalError', errorMessage(err)),
  });
}

function configRoute(config: ConfigView, rest: string[], q: URLSearchParams): Reply {
  if (rest.length === 0) return json(200, config.info());
  const kind = rest.length === 1 ? CONFIG_RESOURCES[rest[0]!] : undefined;
  if (!kind || !Object.hasOwn(CONFIG_RESOURCES, rest[0]!)) {
    return failure(404, 'NotFound', `no config resource ${rest.join('/')} (one of ${Object.keys(CONFIG_RESOURCES).join(', ')})`);
  }
  return json(200, config.list(kind, q.get('namespace') || undefined));
}

/** A container's buffered output as plain text, like `kubectl logs`. */
function podLog(cluster: LocalCluster | undefined, ns: string, name: string, q: URLSearchParams): Reply {
  const container = q.get('container') ?? undefined;
  const tailText = q.get('tailLines');
  const tail = tailText !== null && /^\d+$/.test(tailText) ? Number(tailText) : undefined;
  const lines = cluster?.logs(ns, name, container, tail);
  if (!lines) return failure(404, 'NotFound', `container ${container ?? '(default)'} not found in pod ${name}`);
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: lines.map((l) => `${l.line}\n`).join('') };
}
