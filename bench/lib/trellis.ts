/**
 * The Trellis pieces: a control plane on a config folder, the client pod's sidecar, and the server pod's sidecar.
 * The upstream app is known to the mesh twice: as a WorkloadEntry behind Service `plain` (no sidecar: the
 * one-hop path), and through its own sidecar's xDS registration behind Service `meshed` (the two-hop path).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect, waitFor } from './net.js';
import type { Child, ProcessSet } from './processes.js';
import { APP, CLIENT_POD_IP, QUIET_CLIENT_POD_IP, CONTROL_PLANE, NAMESPACE, REPO_ROOT, SERVER_POD_IP, SIDECAR_PORTS, type CpuPlan } from './topology.js';
import { get } from 'node:http';
import { SIDECAR_NODE_FLAGS } from '@trellis/proxy';

/** Host headers the client sends to its sidecar's outbound listener. */
export const PLAIN_HOST = `plain.${NAMESPACE}.svc.cluster.local:${APP.port}`;
export const MESHED_HOST = `meshed.${NAMESPACE}.svc.cluster.local:${APP.port}`;
export const POLICIES_HOST = `hashed.${NAMESPACE}.svc.cluster.local:${APP.port}`;

const CONFIG = `apiVersion: v1
kind: Namespace
metadata:
  name: ${NAMESPACE}
---
apiVersion: v1
kind: Service
metadata: { name: plain, namespace: ${NAMESPACE} }
spec:
  selector: { app: plain }
  ports: [{ name: http, port: ${APP.port}, targetPort: ${APP.port} }]
---
# The upstream without a sidecar: the client's sidecar connects straight to the app.
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: plain-app, namespace: ${NAMESPACE} }
spec:
  address: ${APP.host}
  labels: { app: plain }
---
# The same app behind traffic policies: consistent hashing (ring hash on the source IP), outlier
# detection, and a VirtualService route with a subset, a timeout and retries.
apiVersion: v1
kind: Service
metadata: { name: hashed, namespace: ${NAMESPACE} }
spec:
  selector: { app: hashed }
  ports: [{ name: http, port: ${APP.port}, targetPort: ${APP.port} }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: hashed-app, namespace: ${NAMESPACE} }
spec:
  address: ${APP.host}
  labels: { app: hashed, version: v1 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: hashed, namespace: ${NAMESPACE} }
spec:
  host: hashed
  trafficPolicy:
    loadBalancer:
      consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 1024 } }
    outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
  subsets:
  - name: v1
    labels: { version: v1 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hashed, namespace: ${NAMESPACE} }
spec:
  hosts: [hashed]
  http:
  - match: [{ uri: { prefix: / } }]
    route: [{ destination: { host: hashed, subset: v1 } }]
    timeout: 10s
    retries: { attempts: 2, retryOn: "connect-failure,refused-stream,503" }
---
# Backed by the server pod's sidecar, which registers itself over xDS (labels app=meshed).
apiVersion: v1
kind: Service
metadata: { name: meshed, namespace: ${NAMESPACE} }
spec:
  selector: { app: meshed }
  ports: [{ name: http, port: ${APP.port}, targetPort: ${APP.port} }]
`;

const TRELLIS = join(REPO_ROOT, 'bin', 'trellis.js');

export class TrellisMesh {
  private control?: Promise<Child>;
  private client?: Promise<Child>;
  private quietClient?: Promise<Child>;
  private server?: Promise<Child>;

  constructor(
    private readonly procs: ProcessSet,
    private readonly dir: string,
    private readonly cpus: CpuPlan,
  ) {}

  controlPlane(): Promise<Child> {
    return (this.control ??= this.startControlPlane());
  }

  clientSidecar(): Promise<Child> {
    return (this.client ??= this.startSidecar('client-sidecar', CLIENT_POD_IP, { app: 'client' }, ''));
  }

  /** The client's sidecar as deployed with telemetry off: the baseline the telemetry bar compares with. */
  quietClientSidecar(): Promise<Child> {
    const off = { TRELLIS_TRACE_COLLECTOR: 'off', TRELLIS_METRICS: 'off' };
    return (this.quietClient ??= this.startSidecar('quiet-client-sidecar', QUIET_CLIENT_POD_IP, { app: 'client' }, '', off));
  }

  serverSidecar(): Promise<Child> {
    return (this.server ??= this.startSidecar('server-sidecar', SERVER_POD_IP, { app: 'meshed' }, `http:${APP.port}`));
  }

  private async startControlPlane(): Promise<Child> {
    const configDir = join(this.dir, 'mesh-config');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'bench.yaml'), CONFIG);
    const args = [TRELLIS, 'control', '--config', configDir, '--host', CONTROL_PLANE.host];
    args.push('--xds-port', String(CONTROL_PLANE.xdsPort), '--debug-port', String(CONTROL_PLANE.debugPort));
    // Idle during measurements; it sits with the load generator, away from the proxies' core.
    const child = this.procs.start({ name: 'control-plane', command: process.execPath, args, cpu: this.cpus.load });
    await this.ready(child, () => canConnect(CONTROL_PLANE.host, CONTROL_PLANE.xdsPort), 'its xDS port');
    return child;
  }

  private async startSidecar(name: string, podIp: string, labels: Record<string, string>, appPorts: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Child> {
    await this.controlPlane();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TRELLIS_CONTROL_PLANE: `${CONTROL_PLANE.host}:${CONTROL_PLANE.xdsPort}`,
      TRELLIS_POD_IP: podIp,
      TRELLIS_POD_NAME: `${name}-0`,
      TRELLIS_NAMESPACE: NAMESPACE,
      TRELLIS_LABELS: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
      TRELLIS_APP_PORTS: appPorts,
      ...extraEnv,
    };
    // For profiling the sidecars, e.g. BENCH_SIDECAR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = (process.env.BENCH_SIDECAR_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // Started as `trellis up` starts sidecars: with the sidecar's Node flags.
    const args = [...nodeArgs, ...SIDECAR_NODE_FLAGS, TRELLIS, 'proxy'];
    const child = this.procs.start({ name, command: process.execPath, args, cpu: this.cpus.proxy, env });
    await this.ready(child, () => healthy(podIp), 'ready (/healthz/ready)');
    return child;
  }

  /** Waits for `check`, failing early (with the log's tail) if the process dies first. */
  private async ready(child: Child, check: () => Promise<boolean>, what: string): Promise<void> {
    let exited: string | undefined;
    void child.exited.then((how) => (exited = how));
    const ok = await waitFor(async () => exited !== undefined || (await check()), 20_000);
    if (!ok || exited !== undefined) {
      const why = exited !== undefined ? `exited (${exited})` : `not ${what} after 20 s`;
      throw new Error(`${child.name} ${why}:\n${this.procs.logTail(child)}`);
    }
  }
}

function healthy(podIp: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: podIp, port: SIDECAR_PORTS.health, path: '/healthz/ready', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
