import { decodeAny, TYPE_URL, type AnyMessage, type EnvoyJson, type ResourceKind } from '@trellis/envoy-api';

/** One thing wrong with a resource: where inside it (a field path) and why. */
export interface Problem {
  field: string;
  reason: string;
}

export type DecodeResult = { ok: true; name: string; value: EnvoyJson } | { ok: false; error: string };

/**
 * What the ADS client knows about one xDS resource type: its type URL, how to name and sanity-check a
 * decoded resource, whether a state-of-the-world response carries all of them, and which resources of
 * another type a resource makes the proxy subscribe to (a listener's routes, a cluster's endpoints).
 * Checks here are about the xDS contract (what Envoy itself would refuse to load); whether the data path
 * can run the config is the `validate` callback's business.
 */
export abstract class XdsResourceType {
  abstract readonly kind: ResourceKind;
  /**
   * LDS and CDS responses carry every resource (one missing has been deleted); RDS and EDS responses carry
   * only some of the subscribed names, and a resource goes away when nothing references it any more.
   */
  abstract readonly allResourcesRequiredInSotW: boolean;

  get typeUrl(): string {
    return TYPE_URL[this.kind];
  }

  /** The resource's name field (Listener.name, ClusterLoadAssignment.cluster_name, ...). */
  abstract nameOf(value: EnvoyJson): string;

  protected abstract problems(value: EnvoyJson): Problem[];

  /** Names of the resources of another type this one needs. */
  dependencies(_value: EnvoyJson): string[] {
    return [];
  }

  /** Decodes and checks one resource of a response; `index` is its position, for messages. */
  decode(any: AnyMessage, index: number): DecodeResult {
    const at = `${this.kind} #${index}`;
    if (any.type_url !== this.typeUrl) {
      return { ok: false, error: `${at}: type ${any.type_url || '(none)'} in a response for ${this.typeUrl}` };
    }
    let value: EnvoyJson;
    try {
      value = decodeAny(any);
    } catch (err) {
      return { ok: false, error: `${at}: does not decode: ${err instanceof Error ? err.message : String(err)}` };
    }
    const name = this.nameOf(value);
    const problems = name ? this.problems(value) : [{ field: this.nameField, reason: 'must not be empty' }];
    if (problems.length > 0) {
      const who = name ? `${this.kind} ${name}` : at;
      return { ok: false, error: problems.map((p) => `${who}: ${p.field}: ${p.reason}`).join('; ') };
    }
    return { ok: true, name, value };
  }

  protected get nameField(): string {
    return 'name';
  }
}

/** Object-form helpers: decoded messages are plain objects with absent fields left out. */
export function obj(v: unknown): EnvoyJson | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as EnvoyJson) : undefined;
}

export function list(v: unknown): EnvoyJson[] {
  return Array.isArray(v) ? (v.filter((x) => obj(x)) as EnvoyJson[]) : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A ConfigSource the sidecar can follow: it has only its ADS stream. */
export function isAdsSource(source: unknown): boolean {
  const s = obj(source);
  return !!s && (obj(s.ads) !== undefined || obj(s.self) !== undefined);
}
