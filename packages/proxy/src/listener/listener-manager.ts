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
  ) {}

  reconcile(configs: ReadonlyMap<string, ListenerConfig>, contextFor: (config: ListenerConfig) => ListenerContext): void {
    for (const [name, config] of configs) {
      const bind = this.bindFor(config);
      const existing = this.listeners.get(name);
      if (existing && sameAddress(existing.bind, bind)) {
        existing.update(contextFor(config));
        continue;
      }
      if (existing) this.retire(existing);
      const listener = new Listener(name, bind, contextFor(config), this.log);
      this.listeners.set(name, listener);
      this.track(
        this.binding,
        listener.listen().catch((err: Error) => {
          this.log(`listener ${name}: cannot listen on ${bind.address}:${bind.port}: ${err.message}`);
          if (this.listeners.get(name) === listener) this.listeners.delete(name);
        }),
      );
    }
    for (const [name, listener] of this.listeners) {
      if (!configs.has(name)) {
        this.listeners.delete(name);
        this.retire(listener);
      }
    }
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
