import type { ListenerConfig, SocketAddress } from '../config/compiled-config.js';
import type { ListenerContext } from '../http/data-plane.js';
import { Listener, type Log } from './listener.js';

/** How long a removed listener's in-flight requests get to finish. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Keeps the listening sockets in step with the config: a new listener (or a changed address) starts
 * listening, a removed one drains and closes; an unchanged one just sees the new snapshot.
 */
export class ListenerManager {
  private readonly listeners = new Map<string, Listener>();
  private readonly binding = new Set<Promise<unknown>>();
  private readonly draining = new Set<Promise<unknown>>();

  constructor(
    /** Where a listener binds: the pod IP and the sidecar's port for it. */
    private readonly bindFor: (config: ListenerConfig) => SocketAddress,
    private readonly log: Log,
    /**
     * Added to a port below 1024 the process may not bind (EACCES: no root, no CAP_NET_BIND_SERVICE), e.g.
     * 8000 puts a gateway's port 80 on 8080; null leaves such a listener unbound.
     */
    private readonly privilegedPortOffset: number | null = null,
  ) {}

  /** What each listener was configured to bind, when it had to take another port. */
  private readonly requested = new WeakMap<Listener, SocketAddress>();

  reconcile(configs: ReadonlyMap<string, ListenerConfig>, contextFor: (config: ListenerConfig) => ListenerContext): void {
    for (const [name, config] of configs) {
      const bind = this.bindFor(config);
      const existing = this.listeners.get(name);
      if (existing && sameAddress(this.requested.get(existing) ?? existing.bind, bind)) {
        existing.update(contextFor(config));
        continue;
      }
      if (existing) this.retire(existing);
      this.start(name, bind, contextFor(config));
    }
    for (const [name, listener] of this.listeners) {
      if (!configs.has(name)) {
        this.listeners.delete(name);
        this.retire(listener);
      }
    }
  }

  private start(name: string, bind: SocketAddress, ctx: ListenerContext, requested?: SocketAddress): void {
    const listener = new Listener(name, bind, ctx, this.log);
    if (requested) this.requested.set(listener, requested);
    this.listeners.set(name, listener);
    this.track(
      this.binding,
      listener.listen().catch((err: NodeJS.ErrnoException) => {
        if (this.listeners.get(name) !== listener) return;
        this.listeners.delete(name);
        const offset = this.privilegedPortOffset;
        if (!requested && offset !== null && err.code === 'EACCES' && bind.port > 0 && bind.port < 1024) {
          const alternative = { address: bind.address, port: bind.port + offset };
          this.log(`listener ${name}: port ${bind.port} needs privileges (${err.message}); listening on ${alternative.address}:${alternative.port} instead`);
          this.start(name, alternative, ctx, bind);
          return;
        }
        this.log(`listener ${name}: cannot listen on ${bind.address}:${bind.port}: ${err.message}`);
      }),
    );
  }

  /** Every listener that is bound, with where it listens. */
  list(): { name: string; address: SocketAddress; tls: boolean }[] {
    return [...this.listeners].map(([name, l]) => ({ name, address: l.address(), tls: l.terminatesTls }));
  }

  get(name: string): Listener | undefined {
    return this.listeners.get(name);
  }

  /** Resolves once every listener started so far is listening (or has failed to). */
  async settled(): Promise<void> {
    while (this.binding.size > 0) await Promise.all([...this.binding]);
  }

  /** Drains every listener (and waits for earlier drains). */
  async close(timeoutMs: number): Promise<void> {
    await this.settled();
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all([...all.map((l) => l.drain(timeoutMs)), ...this.draining]);
  }

  private retire(listener: Listener): void {
    this.track(this.draining, listener.drain(DRAIN_TIMEOUT_MS));
  }

  private track(set: Set<Promise<unknown>>, p: Promise<unknown>): void {
    set.add(p);
    void p.finally(() => set.delete(p));
  }
}

function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.address === b.address && a.port === b.port;
}
