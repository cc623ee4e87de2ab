import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RawSnapshot } from '../../../src/config/raw-snapshot.js';
import type { WireSnapshot } from '../fixtures/sidecar-child.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/sidecar-child.ts', import.meta.url));

/** A Sidecar in a child process (run with tsx), for measuring the proxy's own memory. */
export class ChildSidecar {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static async start(raw: RawSnapshot): Promise<ChildSidecar> {
    const proc = fork(SCRIPT, [], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const wire: WireSnapshot = {
      versions: { ...raw.versions },
      resources: {
        cluster: [...raw.resources.cluster],
        endpoint: [...raw.resources.endpoint],
        listener: [...raw.resources.listener],
        route: [...raw.resources.route],
      },
    };
    const reply = await ask<{ port: number }>(proc, { snapshot: wire });
    return new ChildSidecar(proc, reply.port);
  }

  /** The child's memory after a full GC: RSS, and V8 heap + external (Buffer) bytes in use. */
  memory(): Promise<{ rss: number; retained: number }> {
    return ask<{ rss: number; retained: number }>(this.proc, { rss: true });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.send({ close: true });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function ask<T>(proc: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child sidecar did not answer ${JSON.stringify(Object.keys(msg))}`)), 20_000);
    proc.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    proc.send(msg);
  });
}
