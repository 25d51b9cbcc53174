/**
 * Recency ranks of a user's interactions, the input of recency weighting (train/recency.ts).
 */

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
