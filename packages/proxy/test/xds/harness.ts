import type { EnvoyJson, Node, ResourceKind } from '@trellis/envoy-api';
import { XdsServer } from '../../../control/src/xds/server.js';
import { parseNode } from '../../../control/src/registry/proxy-identity.js';
import type { NamedResource } from '../../../control/src/translate/types.js';
import { AdsClient, type AdsClientOptions } from '../../src/xds/ads-client.js';
import type { RawSnapshot } from '../../src/config/raw-snapshot.js';

/** What the control plane serves: per type, resources by name. Tests edit it and push. */
export type MeshResources = Record<ResourceKind, Map<string, EnvoyJson>>;

export function meshResources(init: Partial<Record<ResourceKind, EnvoyJson[]>> = {}): MeshResources {
  const byName = (kind: ResourceKind, list: EnvoyJson[] = []) =>
    new Map(list.map((r) => [String(kind === 'endpoint' ? r.cluster_name : r.name), r]));
  return {
    listener: byName('listener', init.listener),
    route: byName('route', init.route),
    cluster: byName('cluster', init.cluster),
    endpoint: byName('endpoint', init.endpoint),
  };
}

export interface GenerateCall {
  kind: ResourceKind;
  names: readonly string[] | null;
}

/** A real Trellis XdsServer on 127.0.0.1 serving `mesh`, recording what it was asked. */
export class ControlPlaneFixture {
  readonly generated: GenerateCall[] = [];
  readonly nodes: Node[] = [];
  readonly logs: string[] = [];
  readonly server: XdsServer;
  port = 0;

  constructor(public mesh: MeshResources) {
    this.server = new XdsServer({
      generate: (_proxy, kind, names) => {
        this.generated.push({ kind, names: names && [...names] });
        return [...this.mesh[kind]]
          .filter(([name]) => names === null || names.includes(name))
          .map(([name, resource]): NamedResource => ({ name, resource }));
      },
      identify: (node) => {
        this.nodes.push(node);
        return parseNode(node);
      },
      debounceMs: 10,
      log: (msg) => this.logs.push(msg),
    });
  }

  async listen(port = 0): Promise<number> {
    this.port = await this.server.listen('127.0.0.1', port);
    return this.port;
  }

  /** The status of the one connected proxy. */
  proxyStatus() {
    const all = this.server.status();
    if (all.length !== 1) throw new Error(`expected one connected proxy, found ${all.length}`);
    return all[0]!;
  }
}

export const TEST_NODE: Node = {
  id: 'sidecar~127.0.0.1~reviews-v1-0.default~default.svc.cluster.local',
  cluster: 'reviews-v1.default',
};

/** An AdsClient with callbacks recorded, pointed at `port`. */
export class ClientFixture {
  readonly updates: RawSnapshot[] = [];
  readonly connection: boolean[] = [];
  readonly logs: string[] = [];
  readonly trace: string[] = [];
  readyCount = 0;
  snapshotAtReady?: RawSnapshot;
  validate: (candidate: RawSnapshot) => void = () => {};
  readonly client: AdsClient;

  constructor(port: number, options: Partial<AdsClientOptions> = {}) {
    this.client = new AdsClient({
      server: `127.0.0.1:${port}`,
      node: TEST_NODE,
      validate: (c) => this.validate(c),
      onUpdate: (s) => this.updates.push(s),
      onReady: () => {
        this.readyCount += 1;
        this.snapshotAtReady = this.client.snapshot();
      },
      onConnection: (up) => this.connection.push(up),
      log: (msg) => this.logs.push(msg),
      trace: (msg) => this.trace.push(msg),
      backoff: { initialMs: 50, maxMs: 400 },
      ...options,
    });
  }
}

/** Polls until `check` returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function names(snap: RawSnapshot, kind: ResourceKind): string[] {
  return [...snap.resources[kind].keys()].sort();
}
