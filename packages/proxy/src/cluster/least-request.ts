import type { LbConfig } from '../config/compiled-config.js';
import { EdfScheduler } from './edf-scheduler.js';
import type { Host } from './host.js';
import type { LoadBalancer } from './load-balancer.js';
import type { PrioritySet } from './priority-set.js';
import { slowStartEnds, slowStartFactor } from './slow-start.js';

type LeastRequestConfig = Extract<LbConfig, { kind: 'least_request' }>;

/**
 * Envoy's LEAST_REQUEST. Equal weights: sample `choice_count` hosts at random (power of two choices by
 * default) and take the one with the fewest active requests (HostStats.rqActive), the first sampled on
 * a tie; `enable_full_scan` compares every host instead. Unequal weights: Envoy's EDF scheduler with the
 * dynamic weight `weight / (active + 1) ^ active_request_bias`, recomputed for a host each time it is
 * picked — so a busy host's next turn is pushed out, while idle heavy hosts keep their larger share.
 * Hosts in slow start (joined less than `slow_start_config`'s window ago) also go through the EDF path,
 * their weight ramped up by Envoy's slow start factor, until the window is over.
 */
export class LeastRequestLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private readonly weighted: boolean;
  private edf: EdfScheduler<Host> | null = null;
  /** performance.now() until which some host is in slow start (0: none). */
  private slowStartUntil: number;

  constructor(
    set: PrioritySet,
    private readonly config: LeastRequestConfig,
  ) {
    this.hosts = set.hostsToBalance;
    const first = this.hosts[0]?.weight ?? 1;
    this.weighted = this.hosts.some((h) => h.weight !== first);
    this.slowStartUntil = slowStartEnds(config.slowStart, this.hosts);
    if (this.weighted || this.slowStartUntil !== 0) this.edf = this.scheduler(performance.now());
  }

  private scheduler(now: number): EdfScheduler<Host> {
    const edf = new EdfScheduler<Host>();
    for (const h of this.hosts) edf.add(h, this.weightOf(h, now));
    return edf;
  }

  chooseHost(): Host | null {
    const hosts = this.hosts;
    const n = hosts.length;
    if (n === 0) return null;
    let now = 0;
    if (this.slowStartUntil !== 0) {
      now = performance.now();
      if (now >= this.slowStartUntil) {
        // Slow start is over: static weights again (sampling, when they are equal).
        now = 0;
        this.slowStartUntil = 0;
        if (!this.weighted) this.edf = null;
      }
    }
    if (this.edf !== null) {
      const h = this.edf.pick()!;
      this.edf.add(h, this.weightOf(h, now));
      return h;
    }
    if (this.config.fullScan) return fullScan(hosts);
    let best = hosts[Math.floor(Math.random() * n)]!;
    for (let i = 1; i < this.config.choiceCount; i++) {
      const h = hosts[Math.floor(Math.random() * n)]!;
      if (h.stats.rqActive < best.stats.rqActive) best = h;
    }
    return best;
  }

  /** Envoy's dynamic weight; `now` is 0 when no host is in slow start. */
  private weightOf(h: Host, now: number): number {
    const bias = this.config.activeRequestBias;
    const active = h.stats.rqActive + 1;
    const ss = this.config.slowStart;
    const weight = ss !== null && now !== 0 ? h.weight * slowStartFactor(ss, h.stats.slowStartSinceMs, now) : h.weight;
    if (bias === 1) return weight / active;
    if (bias === 0) return weight;
    return weight / Math.pow(active, bias);
  }
}

/** The host with the fewest active requests; ties broken at random (each tied host equally likely). */
function fullScan(hosts: readonly Host[]): Host {
  let best = hosts[0]!;
  let ties = 1;
  for (let i = 1; i < hosts.length; i++) {
    const h = hosts[i]!;
    if (h.stats.rqActive < best.stats.rqActive) {
      best = h;
      ties = 1;
    } else if (h.stats.rqActive === best.stats.rqActive && Math.random() * ++ties < 1) {
      best = h;
    }
  }
  return best;
}
