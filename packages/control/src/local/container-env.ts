import type { Labels } from '../model/istio-types.js';
import type { Container } from '../model/kube-types.js';

/** What the downward API can tell a container about its pod. */
export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  podIP: string;
  labels: Labels;
  annotations: Record<string, string>;
  serviceAccountName: string;
}

/** Local mode's node: the host. */
export const LOCAL_NODE = { name: 'local', ip: '127.0.0.1' } as const;

/** Host variables a local container inherits (what an image would provide); nothing else leaks in. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'SYSTEMROOT'];

export class ContainerConfigError extends Error {}

/** Kubernetes' `$(VAR)` expansion: defined names are replaced, `$$` is a literal `$`, anything else is kept. */
export function expandVars(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.hasOwn(vars, name) ? vars[name]! : whole;
  });
}

/** A `fieldRef.fieldPath` resolved against the pod, as the kubelet's downward API does. */
export function fieldValue(path: string, pod: PodFacts): string {
  const keyed = /^metadata\.(labels|annotations)\['([^']*)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.labels : pod.annotations)[keyed[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'status.podIP':
    case 'status.podIPs':
      return pod.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return LOCAL_NODE.ip;
    case 'spec.nodeName':
      return LOCAL_NODE.name;
    case 'spec.serviceAccountName':
      return pod.serviceAccountName;
    default:
      throw new ContainerConfigError(`fieldRef ${path} is not supported`);
  }
}

/**
 * The environment a local container runs with: a few host variables, the pod's identity (HOSTNAME, POD_NAME,
 * POD_NAMESPACE, POD_IP and PORT, the first containerPort, so apps can bind `$POD_IP:$PORT`), then the
 * container's own `env` in order, each value expanding `$(VAR)` from those before it. Throws
 * ContainerConfigError for what local mode can't provide (Secrets, ConfigMaps, resource fields).
 */
export function containerEnv(c: Container, pod: PodFacts, host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of INHERITED) if (host[k] !== undefined) env[k] = host[k]!;
  Object.assign(env, {
    HOSTNAME: pod.name,
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    POD_IP: pod.podIP,
  });
  const port = c.ports?.[0]?.containerPort;
  if (port !== undefined) env.PORT = String(port);
  for (const e of c.env ?? []) env[e.name] = envValue(e, pod, env);
  return env;
}

function envValue(e: NonNullable<Container['env']>[number], pod: PodFacts, sofar: Record<string, string>): string {
  if (e.valueFrom === undefined || e.valueFrom === null) return expandVars(e.value ?? '', sofar);
  const from = e.valueFrom as { fieldRef?: { fieldPath?: string } };
  const path = from.fieldRef?.fieldPath;
  if (typeof path === 'string') return fieldValue(path, pod);
  const kind = Object.keys(e.valueFrom as object)[0] ?? 'valueFrom';
  throw new ContainerConfigError(`env ${e.name}: ${kind} is not supported in local mode (use value or fieldRef)`);
}

/**
 * The command line: `command` then `args` with `$(VAR)` expanded (Kubernetes semantics, where `command`
 * replaces the image's entrypoint). Local mode has no image, so a container needs at least one of them.
 */
export function commandLine(c: Container, env: Readonly<Record<string, string>>): string[] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expandVars(a, env));
  if (argv.length === 0) {
    throw new ContainerConfigError(`container ${c.name} has no command: local mode runs command + args (there is no image entrypoint)`);
  }
  return argv;
}
