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
export function podExec(cluster: LocalCluster | undefined, pod: PodJson, q: URLSearchParams, failure: Failure): Reply {
  const { name, namespace } = pod.metadata;
  if (!cluster) return failure(400, 'BadRequest', `pod ${name} is not run by this mesh (trellis up runs the pods exec can reach)`);
  const container = q.get('container') ?? undefined;
  const context = cluster.execContext(namespace, name, container);
  if (!context) {
    const names = pod.spec.containers.map((c) => c.name).join(', ');
    return failure(404, 'NotFound', `container ${container ?? '(default)'} not found in pod ${name} (its containers: ${names})`);
  }
  return json(200, context);
}
