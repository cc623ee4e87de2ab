import type { ConfigIssue } from './issues.js';
import type { ConfigKind, ConfigObject } from './objects.js';

type OfKind<K extends ConfigKind> = Extract<ConfigObject, { kind: K }>;

/**
 * One immutable, validated view of all user config. A change builds a new MeshConfig and swaps it in;
 * nobody mutates one that translation may be reading.
 */
export class MeshConfig {
  private readonly byKind = new Map<ConfigKind, ConfigObject[]>();

  constructor(
    readonly objects: readonly ConfigObject[],
    /** Problems found while building this config (errors of rejected files, warnings of accepted ones). */
    readonly issues: readonly ConfigIssue[] = [],
  ) {
    for (const o of objects) {
      const list = this.byKind.get(o.kind) ?? [];
      list.push(o);
      this.byKind.set(o.kind, list);
    }
    Object.freeze(this);
  }

  static readonly EMPTY = new MeshConfig([]);

  ofKind<K extends ConfigKind>(kind: K): readonly OfKind<K>[] {
    return (this.byKind.get(kind) ?? []) as OfKind<K>[];
  }

  get virtualServices() { return this.ofKind('VirtualService'); }
  get destinationRules() { return this.ofKind('DestinationRule'); }
  get gateways() { return this.ofKind('Gateway'); }
  get serviceEntries() { return this.ofKind('ServiceEntry'); }
  get workloadEntries() { return this.ofKind('WorkloadEntry'); }
  get services() { return this.ofKind('Service'); }
  get deployments() { return this.ofKind('Deployment'); }
  get pods() { return this.ofKind('Pod'); }
  get namespaces() { return this.ofKind('Namespace'); }
  get secrets() { return this.ofKind('Secret'); }

  /** Labels of a namespace declared in config ({} when it isn't declared). */
  namespaceLabels(name: string): Record<string, string> {
    return this.namespaces.find((n) => n.metadata.name === name)?.metadata.labels ?? {};
  }
}
