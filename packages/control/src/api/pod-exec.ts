import { json, type Reply } from '../http/reply-server.js';
import type { LocalCluster } from '../local/local-cluster.js';
import type { PodJson } from './pods.js';

export type Failure = (code: number, reason: string, message: string) => Reply;

/**
 * GET /api/v1/namespaces/NS/pods/NAME/exec?container=C: the container's ExecContext (working directory,
 * environment, pod IP, whether it runs), from which `trellis exec` starts the command on this host. Kubernetes
 * runs the command itself (POST with a stream upgrade); local mode's containers are host processes, so the CLI
 * can run it just as they run, and pass its stdio and exit code through untouched.
 */
export function podExec(cluster: LocalCluster | undefined, pod: PodJson, q: URLSearchParams, caller: string | undefined, failure: Failure): Reply {
  const { name, namespace } = pod.metadata;
  // The context carries the container's environment (secrets included), and the command can only run on this
  // host anyway: an API bound beyond loopback must not hand it to other machines.
  if (!isLoopbackAddress(caller)) {
    return failure(403, 'Forbidden', `exec is only served to callers on this host (the pods run here); ${caller ?? 'an unknown address'} is not a loopback address`);
  }
  if (!cluster) return failure(400, 'BadRequest', `pod ${name} is not run by this mesh (trellis up runs the pods exec can reach)`);
  const container = q.get('container') ?? undefined;
  const context = cluster.execContext(namespace, name, container);
  if (!context) {
    const names = pod.spec.containers.map((c) => c.name).join(', ');
    return failure(404, 'NotFound', `container ${container ?? '(default)'} not found in pod ${name} (its containers: ${names})`);
  }
  return json(200, context);
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack socket reports an IPv4 peer). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}
