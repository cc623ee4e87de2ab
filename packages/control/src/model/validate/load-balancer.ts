/** LoadBalancerSettings (Istio's validateLoadBalancer and ValidateLocalityLbSetting). */
import type { LoadBalancerSettings, LocalityLoadBalancerSetting, OutlierDetection } from '../istio-types.js';
import { each } from './context.js';
import { validateDurationAtLeast1ms } from './duration.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

const MAGLEV_TABLE_SIZE_LIMIT = 5000011;

export function validateLoadBalancer(lb: LoadBalancerSettings | undefined, outlier: OutlierDetection | undefined, path: FieldPath, r: Reporter): void {
  if (!lb) return;
  const hash = lb.consistentHash;
  if (hash) {
    const at = [...path, 'consistentHash'];
    const keys = (['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const).filter((k) => hash[k] !== undefined);
    if (keys.length === 0) {
      // Istio accepts this; Envoy then has nothing to hash and picks hosts at random.
      r.warn(at, 'consistentHash has none of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName; requests will not be hashed');
    }
    if (hash.httpCookie && !hash.httpCookie.name) r.error([...at, 'httpCookie', 'name'], 'name required for HttpCookie');
    if (hash.minimumRingSize !== undefined && (hash.ringHash || hash.maglev)) {
      r.error([...at, 'minimumRingSize'], 'only one of MinimumRingSize or Maglev/Ringhash can be specified');
    }
    const tableSize = hash.maglev?.tableSize;
    if (hash.maglev) {
      const tsAt = [...at, 'maglev', 'tableSize'];
      if (!tableSize) r.error(tsAt, 'tableSize must be set for maglev');
      else if (tableSize >= MAGLEV_TABLE_SIZE_LIMIT) r.error(tsAt, `tableSize must be less than ${MAGLEV_TABLE_SIZE_LIMIT} for maglev`);
      else if (!isPrime(tableSize)) r.error(tsAt, `tableSize must be a prime number for maglev, got ${tableSize}`);
    }
  }
  validateLocalityLbSetting(lb.localityLbSetting, outlier, [...path, 'localityLbSetting'], r);
  if (lb.localityLbSetting && lb.localityLbSetting.enabled !== false) {
    r.warn([...path, 'localityLbSetting'], 'locality load balancing is not supported yet: endpoints are balanced without regard to locality');
  }
  validateDurationAtLeast1ms(lb.warmupDurationSecs, [...path, 'warmupDurationSecs'], r);
  const slowStart = lb.warmup ? 'warmup' : lb.warmupDurationSecs !== undefined ? 'warmupDurationSecs' : undefined;
  if (slowStart && (hash || lb.simple === 'RANDOM' || lb.simple === 'PASSTHROUGH')) {
    // Envoy's slow start exists for round robin and least request only (Istio drops it silently).
    r.warn([...path, slowStart], `${slowStart} applies to ROUND_ROBIN and LEAST_REQUEST only; ignored for ${hash ? 'consistentHash' : lb.simple}`);
  }
  if (lb.warmup) {
    const at = [...path, 'warmup'];
    if (lb.warmup.duration === undefined) r.error([...at, 'duration'], 'duration is required');
    else validateDurationAtLeast1ms(lb.warmup.duration, [...at, 'duration'], r);
    if ((lb.warmup.minimumPercent ?? 0) > 100) r.error([...at, 'minimumPercent'], 'minimumPercent value should be less than or equal to 100');
    if (lb.warmup.aggression !== undefined && lb.warmup.aggression < 1) r.error([...at, 'aggression'], 'aggression should be greater than or equal to 1');
  }
}

/** Envoy's primality test for maglev table sizes (source/common/common/utility.cc). */
export function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let f = 3; f <= limit; f += 2) if (x % f === 0) return false;
  return true;
}

const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

function validateLocalityLbSetting(lb: LocalityLoadBalancerSetting | undefined, outlier: OutlierDetection | undefined, path: FieldPath, r: Reporter): void {
  if (!lb) return;
  if (lb.distribute?.length && lb.failover?.length) {
    r.error(path, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  if (lb.failover?.length) {
    const topo = lb.failoverPriority?.find((l) => TOPOLOGY_LABELS.has(l));
    if (topo) r.error([...path, 'failoverPriority'], `can not simultaneously set 'failover' and topology label '${topo}' in 'failover_priority'`);
  }
  const sources: string[] = [];
  each(lb.distribute, [...path, 'distribute'], (d, at) => {
    sources.push(d.from ?? '');
    const weights = Object.values(d.to ?? {});
    if (weights.some((w) => w <= 0 || w > 100)) r.error([...at, 'to'], 'locality weight must be in range [1, 100]');
    else {
      const total = weights.reduce((a, b) => a + b, 0);
      if (total !== 100) r.error([...at, 'to'], `total locality weight ${total} != 100`);
      const err = localitiesError(Object.keys(d.to ?? {}));
      if (err) r.error([...at, 'to'], err);
    }
  });
  const srcErr = localitiesError(sources);
  if (srcErr) r.error([...path, 'distribute'], srcErr);
  if ((lb.failover?.length || lb.failoverPriority?.length) && !outlier) {
    r.warn(path, 'outlier detection policy must be provided for failover');
  }
  each(lb.failover, [...path, 'failover'], (f, at) => {
    if (f.from === f.to) r.error(at, 'locality lb failover settings must specify different regions');
    if (f.from?.includes('/') || f.to?.includes('/')) r.error(at, 'locality lb failover only specify region');
    if (f.from?.includes('*') || f.to?.includes('*')) r.error(at, "locality lb failover region should not contain '*' wildcard");
  });
}

/** Localities `region[/zone[/subzone]]`, a `*` only at the end, none covering another (Istio's validateLocalities). */
function localitiesError(localities: readonly string[]): string | undefined {
  const regions = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = locality.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) {
      return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    }
    const overlap = `locality ${locality} overlap with previous specified ones`;
    if (regions.has('*')) return overlap;
    const parts = locality.split('/', 3);
    if (parts.some((p) => p === '')) return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region, zone = '*', subzone = '*'] = parts as [string, string?, string?];
    const zones = regions.get(region);
    if (!zones) {
      regions.set(region, new Map([[zone, new Set([subzone])]]));
      continue;
    }
    if (parts.length === 1 || zones.has('*')) return overlap;
    const subzones = zones.get(zone);
    if (!subzones) {
      zones.set(zone, new Set([subzone]));
      continue;
    }
    if (parts.length === 2 || subzones.has('*') || subzones.has(subzone)) return overlap;
    subzones.add(subzone);
  }
  return undefined;
}
