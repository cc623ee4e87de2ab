import type { HttpFilterConfig } from '../config/compiled-config.js';
import { RouterFilter } from '../router/router-filter.js';
import type { HttpFilter } from './http-filter.js';

/** An HTTP filter the data path knows by its config type. */
export interface HttpFilterKind {
  /** Fully qualified proto name of the filter's typed_config. */
  readonly typeName: string;
  /** Filter names Envoy accepts for it when the config has no type (well-known names). */
  readonly names: readonly string[];
  /** Only the last filter of a chain may be terminal (the router). */
  readonly terminal: boolean;
  /**
   * Builds the run-time filter; null means the filter is accepted and its config kept (HCM httpFilters,
   * routes' per-filter configs) while its stage isn't part of the data path yet.
   */
  readonly create: ((config: HttpFilterConfig) => HttpFilter) | null;
}

const ROUTER = new RouterFilter();

export const HTTP_FILTER_KINDS: readonly HttpFilterKind[] = [
  {
    typeName: 'envoy.extensions.filters.http.router.v3.Router',
    names: ['envoy.filters.http.router', 'envoy.router'],
    terminal: true,
    create: () => ROUTER,
  },
  {
    typeName: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
    names: ['envoy.filters.http.fault', 'envoy.fault'],
    terminal: false,
    create: null,
  },
  {
    typeName: 'envoy.extensions.filters.http.cors.v3.Cors',
    names: ['envoy.filters.http.cors', 'envoy.cors'],
    terminal: false,
    create: null,
  },
];

export function findHttpFilterKind(typeName: string | undefined, name: string): HttpFilterKind | undefined {
  if (typeName !== undefined) return HTTP_FILTER_KINDS.find((k) => k.typeName === typeName);
  return HTTP_FILTER_KINDS.find((k) => k.names.includes(name));
}
