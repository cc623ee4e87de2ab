import type { Cluster } from '../cluster/cluster.js';
import type { RawSnapshot } from '../config/raw-snapshot.js';
import type { UpstreamPools } from '../upstream/upstream-pools.js';
import { clustersJson, clustersText } from './clusters-dump.js';
import { configDump, type LastUpdated } from './config-dump.js';
import { listenersJson, listenersText, type ListenerStatus } from './listeners-dump.js';
import { SmallHttpServer, send } from './small-http-server.js';
import { clusterStats, statsText } from './stats-dump.js';

/** What the admin endpoints read from the sidecar. */
export interface AdminSource {
  isReady(): boolean;
  raw(): RawSnapshot;
  lastUpdated(): LastUpdated;
  clusters(): ReadonlyMap<string, Cluster>;
  /** Bound listeners with their real addresses (a gateway port may have moved, see ListenerManager). */
  listeners?(): ListenerStatus[];
  readonly pools: UpstreamPools;
}

/** Envoy-style admin (port 15000, pod loopback only): /ready, /config_dump, /clusters, /listeners, /stats. */
export function adminServer(host: string, port: number, src: AdminSource): SmallHttpServer {
  return new SmallHttpServer(host, port, {
    '/ready': (_url, res) => (src.isReady() ? send(res, 200, 'text/plain', 'LIVE\n') : send(res, 503, 'text/plain', 'PRE_INITIALIZING\n')),
    '/config_dump': (url, res) =>
      send(res, 200, 'application/json', `${JSON.stringify(configDump(src.raw(), src.lastUpdated(), url.searchParams.has('include_eds')), null, 2)}\n`),
    '/clusters': (url, res) =>
      url.searchParams.get('format') === 'json'
        ? send(res, 200, 'application/json', `${JSON.stringify(clustersJson(src.clusters(), src.pools), null, 2)}\n`)
        : send(res, 200, 'text/plain', clustersText(src.clusters(), src.pools)),
    '/listeners': (url, res) => {
      const list = src.listeners?.() ?? [];
      if (url.searchParams.get('format') === 'json') return send(res, 200, 'application/json', `${JSON.stringify(listenersJson(list), null, 2)}\n`);
      send(res, 200, 'text/plain', listenersText(list));
    },
    '/stats': (url, res) => {
      let filter: RegExp | null = null;
      const f = url.searchParams.get('filter');
      if (f) {
        try {
          filter = new RegExp(f);
        } catch (e) {
          return send(res, 400, 'text/plain', `invalid filter: ${(e as Error).message}\n`);
        }
      }
      const stats = clusterStats(src.clusters());
      if (url.searchParams.get('format') === 'json') {
        return send(res, 200, 'application/json', `${JSON.stringify({ stats: stats.filter((s) => !filter || filter.test(s.name)) })}\n`);
      }
      send(res, 200, 'text/plain', statsText(stats, filter));
    },
  });
}
