/**
 * Recency ranks of a user's interactions, the input of recency weighting (train/recency.ts).
 */
import type { ImplicitSplit } from './types.js';

/** The recency rank of each of user u's train entries (aligned with its train row); null without timestamps. */
export function trainRecencyOf(split: ImplicitSplit, u: number): Int32Array | null {
  return split.trainRecency?.subarray(split.train.indptr[u], split.train.indptr[u + 1]) ?? null;
}

/**
 * Rank of each interaction from the latest: 0 for the latest, ties broken towards the larger item
 * id (the leave-one-out rule of EVALUATION.md). `items[k]` happened at `times[k]`.
 */
export function recencyRanks(items: Int32Array, times: ArrayLike<number>): Int32Array {
  if (times.length !== items.length) throw new RangeError(`recencyRanks: ${items.length} items but ${times.length} times`);
  const order = Array.from(items, (_, k) => k).sort((a, b) => times[b] - times[a] || items[b] - items[a]);
  const ranks = new Int32Array(items.length);
  order.forEach((k, rank) => (ranks[k] = rank));
  return ranks;
}

/**
 * The `k` latest of a user's entries (recency rank < k: items, or ratings aligned with them), in the
 * order given; none without ranks (no timestamps).
 */
export function latestEntries<T extends Int32Array | Float32Array>(values: T, ranks: Int32Array | null | undefined, k: number): T {
  if (!ranks || k <= 0) return values.slice(0, 0) as T;
  return values.filter((_, j) => ranks[j] < k) as T;
}
