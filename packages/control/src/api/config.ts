import { resolve } from 'node:path';
import type { MeshConfig } from '../model/mesh-config.js';
import { objectRef, type ConfigKind, type ConfigObject } from '../model/objects.js';

/** A config object as the Kubernetes API returns it: what the model validated, plus a creation time. */
export interface ConfigObjectJson {
  apiVersion: string;
  kind: ConfigKind;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec: unknown;
  status?: unknown;
}

export interface ConfigListJson {
  apiVersion: 'v1';
  kind: 'List';
  items: ConfigObjectJson[];
}

/** `GET /api/v1/config`: where the running mesh reads its config, so `trellis apply` writes there. */
export interface ConfigInfoJson {
  /** Absolute path of the folder the control plane watches (undefined when it has none). */
  configDir?: string;
  objects: number;
  errors: number;
  warnings: number;
}

/** The resource names of the API paths, as kubectl spells them (lower-case plural). */
export const CONFIG_RESOURCES: Readonly<Record<string, ConfigKind>> = {
  virtualservices: 'VirtualService',
  destinationrules: 'DestinationRule',
  gateways: 'Gateway',
  serviceentries: 'ServiceEntry',
  workloadentries: 'WorkloadEntry',
  services: 'Service',
  deployments: 'Deployment',
  namespaces: 'Namespace',
  pods: 'Pod',
};

/** What the API reads of the control plane's config source. */
export interface ConfigSourceView {
  current(): MeshConfig;
  /** The watched folder. */
  readonly dir?: string;
  on?(event: 'change', listener: (config: MeshConfig) => void): unknown;
}

/**
 * Serves the current MeshConfig by kind. Files don't say when an object was created, so the first time this
 * control plane saw an object stands in for creationTimestamp (kubectl's AGE); an object that disappears and
 * comes back is new again, as a deleted and re-created Kubernetes object is.
 */
export class ConfigView {
  private readonly firstSeen = new Map<string, string>();

  constructor(private readonly source: ConfigSourceView) {
    this.track(source.current());
    source.on?.('change', (config) => this.track(config));
  }

  info(): ConfigInfoJson {
    const { objects, issues } = this.source.current();
    return {
      ...(this.source.dir !== undefined ? { configDir: resolve(this.source.dir) } : {}),
      objects: objects.length,
      errors: issues.filter((i) => i.severity === 'error').length,
      warnings: issues.filter((i) => i.severity === 'warning').length,
    };
  }

  /** The objects of one kind, optionally of one namespace, ordered by namespace then name (kubectl's order). */
  list(kind: ConfigKind, namespace?: string): ConfigListJson {
    this.track(this.source.current());
    const items = this.source
      .current()
      .ofKind(kind)
      .filter((o) => !namespace || o.metadata.namespace === namespace)
      .map((o) => this.toJson(o))
      .sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    return { apiVersion: 'v1', kind: 'List', items };
  }

  private track(config: MeshConfig): void {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const present = new Set<string>();
    for (const o of config.objects) {
      const ref = objectRef(o);
      present.add(ref);
      if (!this.firstSeen.has(ref)) this.firstSeen.set(ref, now);
    }
    for (const ref of this.firstSeen.keys()) if (!present.has(ref)) this.firstSeen.delete(ref);
  }

  private toJson(o: ConfigObject): ConfigObjectJson {
    const { name, namespace, labels, annotations } = o.metadata;
    const metadata: ConfigObjectJson['metadata'] = { name };
    if (namespace) metadata.namespace = namespace;
    if (Object.keys(labels).length) metadata.labels = { ...labels };
    if (Object.keys(annotations).length) metadata.annotations = { ...annotations };
    const created = this.firstSeen.get(objectRef(o));
    if (created) metadata.creationTimestamp = created;
    const json: ConfigObjectJson = { apiVersion: o.apiVersion, kind: o.kind, metadata, spec: o.spec };
    if (o.kind === 'Pod') json.status = o.status;
    return json;
  }
}
