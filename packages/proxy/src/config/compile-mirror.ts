import type { MirrorPolicy } from '../router/route.js';
import { Where, bool, list, obj, oneofKey, str } from './envoy-values.js';
import { runtimeFraction } from './fractional-percent.js';

/**
 * `request_mirror_policies`: the cluster (or the header naming it) and the fraction of requests shadowed
 * (`runtime_fraction.default_value`; all when unset). `trace_sampled` only concerns trace sampling of the
 * shadow, which Trellis doesn't trace: it is accepted and has no effect.
 */
export function compileMirrorPolicies(where: Where, v: unknown, field: string): readonly MirrorPolicy[] {
  return list(where, v, field).map((m, i) => {
    const f = `${field}[${i}]`;
    const p = obj(where, m, f)!;
    const kind = oneofKey(p, ['cluster', 'cluster_header'] as const);
    const named = kind === undefined ? '' : (str(where, p[kind], `${f}.${kind}`) ?? '');
    if (named === '') where.reject(f, 'one of cluster, cluster_header is required');
    return {
      cluster: kind === 'cluster' ? named : '',
      clusterHeader: kind === 'cluster_header' ? named.toLowerCase() : null,
      fraction: runtimeFraction(where, p.runtime_fraction, `${f}.runtime_fraction`, 1),
      appendShadowSuffix: !(bool(where, p.disable_shadow_host_suffix_append, `${f}.disable_shadow_host_suffix_append`) ?? false),
    };
  });
}
