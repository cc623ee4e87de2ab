import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../../src/control-plane.js';
import { LocalCluster, type LocalClusterOptions } from '../../src/local/index.js';
import type { LocalPodStatus } from '../../src/local/types.js';

/**
 * A tiny HTTP app for local pods: answers with what it sees of its pod. SPAWN_CHILD starts a child that ignores
 * SIGTERM (it must still die with its container); CRASH_AFTER_MS makes it exit with 3.
 */
export const APP = `
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
const child = process.env.SPAWN_CHILD
  ? spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' })
  : undefined;
const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    pod: process.env.POD_NAME, hostname: process.env.HOSTNAME, ns: process.env.POD_NAMESPACE, ip: process.env.POD_IP,
    port: process.env.PORT, version: process.env.VERSION, greeting: process.env.GREETING, app: process.env.APP_LABEL,
    cwd: process.cwd(), childPid: child?.pid, leaked: process.env.TRELLIS_LEAK,
  }));
});
server.listen(Number(process.env.PORT), process.env.POD_IP, () => console.log('listening on ' + process.env.POD_IP + ':' + process.env.PORT));
if (process.env.CRASH_AFTER_MS) setTimeout(() => { console.error('crashing'); process.exit(3); }, Number(process.env.CRASH_AFTER_MS));
`;

export interface DeploymentOpts {
  name: string;
  namespace: string;
  replicas?: number;
  labels?: Record<string, string>;
  port?: number;
  env?: string[];
  command?: string;
}

/** A Deployment running app.mjs, in YAML. `env` items are YAML flow mappings. */
export function deploymentYaml(d: DeploymentOpts): string {
  const labels = d.labels ?? { app: d.name };
  const flow = `{ ${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${d.name}, namespace: ${d.namespace} }
spec:
  replicas: ${d.replicas ?? 1}
  selector: { matchLabels: ${flow} }
  template:
    metadata: { labels: ${flow} }
    spec:
      containers:
      - name: app
        ${d.command ?? 'command: [node, app.mjs]'}
        env: [${(d.env ?? []).join(', ')}]
        ports: [{ name: http, containerPort: ${d.port ?? 8080} }]
`;
}

export function serviceYaml(name: string, namespace: string, port = 80, targetPort: string | number = 'http'): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: ${port}, targetPort: ${targetPort} }]
`;
}

export function namespaceYaml(name: string, labels: Record<string, string> = {}): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: { ${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')} }
`;
}

export interface LocalMesh {
  dir: string;
  plane: ControlPlane;
  cluster: LocalCluster;
  /** Writes a file in the config folder (the control plane picks it up). */
  write(file: string, text: string): Promise<void>;
  close(): Promise<void>;
}

/** A config folder with app.mjs and `files`, a control plane on ephemeral ports, and a LocalCluster on it. */
export async function startLocalMesh(files: Record<string, string>, opts: Partial<LocalClusterOptions> = {}): Promise<LocalMesh> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-local-'));
  await writeFile(join(dir, 'app.mjs'), APP);
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  const plane = await ControlPlane.start({
    configDir: dir,
    xdsHost: '127.0.0.1',
    xdsPort: 0,
    debugHost: '127.0.0.1',
    debugPort: 0,
    apiPort: 0,
    debounceMs: 30,
  });
  const cluster = LocalCluster.start(plane, {
    proxyCommand: [process.execPath, '-e', 'process.exit(1)'],
    probeIntervalMs: 100,
    gracePeriodMs: 1000,
    backoff: { initialMs: 200, maxMs: 1000 },
    ...opts,
  });
  plane.localCluster = cluster;
  return {
    dir,
    plane,
    cluster,
    write: (file, text) => writeFile(join(dir, file), text),
    async close() {
      await cluster.stop();
      await plane.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether a process exists and isn't a zombie (an exited child its reaper hasn't collected yet). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function getJson<T = any>(url: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
        } catch (err) {
          reject(new Error(`${url}: not JSON: ${text}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export const podsOf = (cluster: LocalCluster, deployment: string): LocalPodStatus[] =>
  cluster.list().filter((p) => p.deployment === deployment && !p.deletedAt);

export const readyPods = (cluster: LocalCluster, deployment: string, n: number): LocalPodStatus[] | undefined => {
  const pods = podsOf(cluster, deployment);
  return pods.length === n && pods.every((p) => p.ready) ? pods : undefined;
};
