import type { WeightedCluster, WeightedClusters } from './route.js';

/**
 * Envoy's pick: a random value in [0, total weight), then the first cluster whose cumulative weight exceeds
 * it. Zero-weight clusters are never chosen.
 */
export function pickWeightedCluster(w: WeightedClusters, random: number = Math.random()): WeightedCluster {
  const target = Math.floor(random * w.totalWeight);
  let cumulative = 0;
  for (const c of w.clusters) {
    cumulative += c.weight;
    if (target < cumulative) return c;
  }
  return w.clusters[w.clusters.length - 1]!;
}

/** A request that remembers its weighted pick, so every stage (filters, router, retries) sees the same one. */
export interface WeightedPickHolder {
  weightedCluster: WeightedCluster | null;
}

/** The request's weighted cluster: picked on first use, the same one afterwards. */
export function chosenWeightedCluster(holder: WeightedPickHolder, w: WeightedClusters): WeightedCluster {
  return (holder.weightedCluster ??= pickWeightedCluster(w));
}
