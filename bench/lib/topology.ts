/**
 * Where everything listens: one loopback address per "pod", so Trellis' default sidecar ports (15001, 15006,
 * ...) never collide. 127.0.200.x stays clear of local mode's allocator, which starts at 127.0.1.2.
 */
import { fileURLToPath } from 'node:url';
import { SIDECAR_NODE_FLAGS } from '@trellis/proxy';

export const APP = { host: '127.0.200.10', port: 8080 };
export const CONTROL_PLANE = { host: '127.0.200.2', xdsPort: 15010, debugPort: 15014 };
/** The client pod's sidecar (its outbound listener is what the client talks to). */
export const CLIENT_POD_IP = '127.0.200.1';
/** A second client pod whose sidecar runs with telemetry off (no metrics recorded, no tracing). */
export const QUIET_CLIENT_POD_IP = '127.0.200.3';
/** The server pod's sidecar shares the app's address, as in a real pod. */
export const SERVER_POD_IP = APP.host;
export const HTTP_PROXY = { host: '127.0.200.20', port: 8080 };
export const NGINX = { host: '127.0.200.30', port: 8080 };
/** Two nginx instances chained (client -> first -> second -> app), laid out as the 2-sidecar path is. */
export const NGINX_CHAIN = { first: { host: '127.0.200.31', port: 8080 }, second: { host: '127.0.200.32', port: 8080 } };
/** Two bare Node TCP relays chained the same way: what two Node processes on the path cost by themselves. */
export const NODE_RELAY_CHAIN = { first: { host: '127.0.200.33', port: 8080 }, second: { host: '127.0.200.34', port: 8080 } };
export const SIDECAR_PORTS = { outbound: 15001, inbound: 15006, health: 15021 };
export const NAMESPACE = 'bench';

/** The repository root and the compiled bench (this file lives in bench/dist/lib/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BENCH_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const PROCS_DIR = fileURLToPath(new URL('../procs/', import.meta.url));

/** Which CPU runs what: the load generator (and the upstream) on one, the proxy under test on the other. */
export interface CpuPlan {
  load: number;
  proxy: number;
  /** Whether taskset actually pins; otherwise the scheduler places everything. */
  pinned: boolean;
}

/**
 * Node flags for the bench's own Node processes (upstream app, load generator, http-proxy): each is pinned to
 * one core, where V8's parallel GC helpers only queue behind the thread they help. They run as the sidecars do.
 */
export const PINNED_NODE_FLAGS: readonly string[] = SIDECAR_NODE_FLAGS;
