import { EventEmitter } from 'node:events';
import type { Workload } from './types.js';

/**
 * Workloads that come and go at run time: sidecars registered by their xDS stream, pods started by local
 * mode. Config-declared workloads (WorkloadEntry, ServiceEntry endpoints, Pods) are not here; they come
 * with the MeshConfig.
 */
export class WorkloadStore extends EventEmitter<{ change: [] }> {
  private readonly byUid = new Map<string, Workload>();
  private cached: readonly Workload[] | undefined;

  upsert(w: Workload): void {
    this.byUid.set(w.uid, w);
    this.changed();
  }

  remove(uid: string): void {
    if (this.byUid.delete(uid)) this.changed();
  }

  list(): readonly Workload[] {
    this.cached ??= Object.freeze([...this.byUid.values()]);
    return this.cached;
  }

  private changed(): void {
    this.cached = undefined;
    this.emit('change');
  }
}
