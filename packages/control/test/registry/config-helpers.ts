// Builds MeshConfig for registry and translation tests without the model's parser: hand-made typed
// objects with origin/metadata defaults, or YAML read with the `yaml` package.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { MeshConfig } from '../../src/model/mesh-config.js';
import type { ConfigKind, ConfigObject } from '../../src/model/objects.js';
import type { Labels } from '../../src/model/istio-types.js';
import type { Workload } from '../../src/registry/types.js';

const KINDS = new Set<ConfigKind>(['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry', 'Namespace', 'Service', 'Deployment', 'Pod']);

export interface MetaOptions {
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

/** One config object with the defaults the model would fill in. */
export function obj<K extends ConfigKind>(kind: K, name: string, spec: unknown, meta: MetaOptions = {}, extra: Record<string, unknown> = {}): Extract<ConfigObject, { kind: K }> {
  const istio = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry'].includes(kind);
  return {
    kind,
    apiVersion: istio ? 'networking.istio.io/v1' : kind === 'Deployment' ? 'apps/v1' : 'v1',
    metadata: {
      name,
      namespace: kind === 'Namespace' ? '' : (meta.namespace ?? 'default'),
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
    },
    spec,
    origin: { file: 'test.yaml', doc: 0 },
    ...extra,
  } as unknown as Extract<ConfigObject, { kind: K }>;
}

export const config = (...objects: ConfigObject[]) => new MeshConfig(objects);

/** Parses multi-document YAML into config objects; kinds the model doesn't know (ServiceAccount) are skipped. */
export function objectsFromYaml(text: string, file = 'test.yaml'): ConfigObject[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    const raw = doc.toJS() as Record<string, any> | null;
    if (!raw || !KINDS.has(raw.kind)) return [];
    const o = obj(raw.kind as ConfigKind, raw.metadata?.name, raw.spec ?? {}, {
      namespace: raw.metadata?.namespace,
      labels: raw.metadata?.labels,
      annotations: raw.metadata?.annotations,
    }, raw.kind === 'Pod' ? { status: raw.status ?? {} } : {});
    return [{ ...o, apiVersion: raw.apiVersion, origin: { file, doc: i } } as ConfigObject];
  });
}

export const configFromYaml = (...texts: string[]) => config(...texts.flatMap((t) => objectsFromYaml(t)));

/** A file of Istio's samples, from /work/shared/conformance (read in place, never copied). */
export function conformanceFile(relative: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../../../shared/conformance/${relative}`, import.meta.url)), 'utf8');
}

export const bookinfoConfig = (...files: string[]) =>
  config(...files.flatMap((f) => objectsFromYaml(conformanceFile(`istio-bookinfo/${f}`), f)));

/**
 * Pods of every Deployment, as local mode would start them: one loopback IP each, a sidecar in front,
 * named container ports.
 */
export function localPods(cfg: MeshConfig, opts: { sidecar?: boolean; firstIp?: number } = {}): Workload[] {
  let ip = opts.firstIp ?? 2;
  return cfg.deployments.flatMap((d) =>
    Array.from({ length: d.spec.replicas ?? 1 }, (_, i): Workload => {
      const ports: Record<string, number> = {};
      for (const c of d.spec.template.spec.containers) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
      const w: Workload = {
        uid: `local/${d.metadata.namespace}/${d.metadata.name}-${i}`,
        name: `${d.metadata.name}-${i}`,
        namespace: d.metadata.namespace,
        workloadName: d.metadata.name,
        address: `127.0.1.${ip++}`,
        labels: { ...(d.spec.template.metadata?.labels ?? {}) },
        ports,
        kind: 'Pod',
        locality: '',
        weight: 1,
        source: 'local',
      };
      if (opts.sidecar !== false) w.sidecar = { inboundPort: 15006 };
      return w;
    }),
  );
}

/** A plain workload for hand-made tests. */
export function workload(name: string, address: string, labels: Labels, extra: Partial<Workload> = {}): Workload {
  return {
    uid: `local/default/${name}`,
    name,
    namespace: 'default',
    workloadName: name,
    address,
    labels,
    ports: {},
    kind: 'Pod',
    locality: '',
    weight: 1,
    source: 'local',
    ...extra,
  };
}
