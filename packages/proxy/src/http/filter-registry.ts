import type { EnvoyJson } from '@trellis/envoy-api';
import type { HttpFilterConfig } from '../config/compiled-config.js';
import type { Where } from '../config/envoy-values.js';
import type { RouteFilterConfig } from '../router/route.js';
import { RouterFilter } from '../router/router-filter.js';
import { CorsFilter } from './filters/cors-filter.js';
import { compileCorsPolicy } from './filters/cors-policy.js';
import { FaultFilter } from './filters/fault-filter.js';
import { compileFaultSettings } from './filters/fault-settings.js';
import type { HttpFilter } from './http-filter.js';

/** How a filter kind reads its per-route config (`typed_per_filter_config`), compiled once per config. */
export interface PerRouteConfigKind {
  /** Fully qualified proto name of the per-route config. */
  readonly typeName: string;
  compile(where: Where, config: EnvoyJson, field: string): RouteFilterConfig;
}

/** An HTTP filter the data path knows by its config type. The filters themselves live in http/filters/. */
export interface HttpFilterKind {
  /** Fully qualified proto name of the filter's typed_config. */
  readonly typeName: string;
  /** Filter names Envoy accepts for it when the config has no type (well-known names). */
  readonly names: readonly string[];
  /** Only the last filter of a chain may be terminal (the router). */
  readonly terminal: boolean;
  /** Builds the run-time filter from its HCM entry; throws ConfigRejected (through `where`) on bad config. */
  readonly create: (config: HttpFilterConfig, where: Where, field: string) => HttpFilter;
  /** The per-route config it takes, or null when it takes none. */
  readonly perRoute: PerRouteConfigKind | null;
}

const ROUTER = new RouterFilter();
const FAULT_TYPE = 'envoy.extensions.filters.http.fault.v3.HTTPFault';

export const HTTP_FILTER_KINDS: readonly HttpFilterKind[] = [
  {
    typeName: 'envoy.extensions.filters.http.router.v3.Router',
    names: ['envoy.filters.http.router', 'envoy.router'],
    terminal: true,
    create: () => ROUTER,
    perRoute: null,
  },
  {
    typeName: FAULT_TYPE,
    names: ['envoy.filters.http.fault', 'envoy.fault'],
    terminal: false,
    create: (c, where, field) => {
      const settings = compileFaultSettings(where, c.config, `${field}.`);
      return new FaultFilter(c.name, settings.empty ? null : settings);
    },
    perRoute: { typeName: FAULT_TYPE, compile: (where, config, field) => compileFaultSettings(where, config, `${field}.`) },
  },
  {
    typeName: 'envoy.extensions.filters.http.cors.v3.Cors',
    names: ['envoy.filters.http.cors', 'envoy.cors'],
    terminal: false,
    create: (c) => new CorsFilter(c.name),
    perRoute: {
      typeName: 'envoy.extensions.filters.http.cors.v3.CorsPolicy',
      compile: (where, config, field) => compileCorsPolicy(where, config, `${field}.`),
    },
  },
];

export function findHttpFilterKind(typeName: string | undefined, name: string): HttpFilterKind | undefined {
  if (typeName !== undefined) return HTTP_FILTER_KINDS.find((k) => k.typeName === typeName);
  return HTTP_FILTER_KINDS.find((k) => k.names.includes(name));
}

/** The filter kind whose per-route config has this proto type. */
export function findPerRouteConfigKind(typeName: string): PerRouteConfigKind | undefined {
  return HTTP_FILTER_KINDS.find((k) => k.perRoute?.typeName === typeName)?.perRoute ?? undefined;
}
