import type { RouteEntry, RouteFilterConfig } from './route.js';
import type { RouteRequest } from './route-request.js';

/** A compiled virtual host: its routes in order, first match wins. */
export class VirtualHost {
  constructor(
    readonly name: string,
    readonly domains: readonly string[],
    readonly routes: readonly RouteEntry[],
    /** The virtual host's own `typed_per_filter_config` (routes already merged it into theirs). */
    readonly perFilterConfig: ReadonlyMap<string, RouteFilterConfig>,
    /** `require_tls: ALL`: a request that didn't come over TLS gets a 301 to its https URL. */
    readonly requireTls = false,
  ) {}

  findRoute(req: RouteRequest): RouteEntry | null {
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.match(req)) return r;
    }
    return null;
  }
}
