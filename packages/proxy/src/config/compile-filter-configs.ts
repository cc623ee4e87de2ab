import type { EnvoyJson } from '@trellis/envoy-api';
import { findPerRouteConfigKind } from '../http/filter-registry.js';
import { FILTER_DISABLED, type RouteFilterConfig } from '../router/route.js';
import { Where, anyTypeName, bool, isObject, obj, structToPlain } from './envoy-values.js';

const FILTER_CONFIG = 'envoy.config.route.v3.FilterConfig';
const TYPED_STRUCTS = ['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct'];

/** A per-route config that merges over a less specific level's (CORS) instead of replacing it. */
interface MergingConfig {
  mergedOver(outer: object): object;
}

/**
 * A `typed_per_filter_config` map (route configuration, virtual host, route or weighted cluster), each
 * entry compiled by the filter kind that owns its type. A `FilterConfig` wrapper may mark an entry optional
 * (skipped when unknown, as gRPC's xDS client and Envoy do) or disabled (the filter is skipped there).
 * Anything else unknown is refused: a config Trellis would not apply must not look accepted.
 */
export function compilePerFilterConfigs(where: Where, v: unknown, field: string): ReadonlyMap<string, RouteFilterConfig> {
  const m = obj(where, v, field);
  const out = new Map<string, RouteFilterConfig>();
  if (!m) return out;
  for (const [name, raw] of Object.entries(m)) {
    const f = `${field}[${name}]`;
    if (!isObject(raw)) where.reject(f, 'expected a typed config');
    let config = raw;
    let optional = false;
    if (anyTypeName(raw) === FILTER_CONFIG) {
      optional = bool(where, raw.is_optional, `${f}.is_optional`) ?? false;
      if (bool(where, raw.disabled, `${f}.disabled`) ?? false) {
        out.set(name, FILTER_DISABLED);
        continue;
      }
      config = obj(where, raw.config, `${f}.config`) ?? where.reject(`${f}.config`, 'a filter config is required');
    }
    const typeName = anyTypeName(config);
    const kind = typeName === undefined ? undefined : findPerRouteConfigKind(typeName);
    if (!kind) {
      if (optional) continue;
      where.reject(f, `per-route config of type ${typeName ?? '(none)'} is not supported`);
    }
    out.set(name, kind.compile(where, unwrapTypedStruct(config), f));
  }
  return out;
}

/** A TypedStruct carries the message as a Struct in `value`. */
function unwrapTypedStruct(config: EnvoyJson): EnvoyJson {
  const t = config['@type'];
  if (typeof t === 'string' && TYPED_STRUCTS.some((n) => t.endsWith(n))) return structToPlain(config.value) as EnvoyJson;
  return config;
}

/** `inner` (more specific) over `outer`: replaced per filter, or merged where the filter's config says so. */
export function mergeFilterConfigs(
  outer: ReadonlyMap<string, RouteFilterConfig>,
  inner: ReadonlyMap<string, RouteFilterConfig>,
): ReadonlyMap<string, RouteFilterConfig> {
  if (inner.size === 0) return outer;
  if (outer.size === 0) return inner;
  const out = new Map(outer);
  for (const [name, config] of inner) {
    const under = outer.get(name);
    out.set(name, under !== undefined && under !== FILTER_DISABLED && isMerging(config) ? config.mergedOver(under) : config);
  }
  return out;
}

function isMerging(c: RouteFilterConfig): c is RouteFilterConfig & MergingConfig {
  return typeof (c as Partial<MergingConfig>).mergedOver === 'function';
}
