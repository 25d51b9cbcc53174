/**
 * Fixed evaluation negatives (NCF sampled-ranking protocol): for every user with a held-out item,
 * `count` distinct items drawn uniformly from the items the user never interacted with in the
 * whole data set (all of them when fewer remain). Users without a held-out item get an empty row.
 */
import type { Rng } from '../math/rng.js';
import { buildUserItems, sortedRangeHas } from './user-items.js';
import type { UserItems } from './types.js';

export interface EvaluationNegativesInput {
  /** Every interaction of every user (train + validation + test), rows sorted. */
  readonly all: UserItems;
  /** The held-out items of the part being evaluated. */
  readonly heldOut: UserItems;
  readonly nItems: number;
  readonly count: number;
  /** The part's own stream, e.g. `Rng.derive(seed, 'eval-negatives', 'test')`. */
  readonly rng: Rng;
}

/** Per-user negatives, rows sorted ascending. Users are visited in id order, so the stream fixes the result. */
export function drawEvaluationNegatives(input: EvaluationNegativesInput): UserItems {
  const { all, heldOut, nItems, count, rng } = input;
  const nUsers = all.indptr.length - 1;
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    if (heldOut.indptr[u + 1] === heldOut.indptr[u]) continue;
    for (const item of drawUser(all.indices, all.indptr[u], all.indptr[u + 1], nItems, count, rng)) {
      users.push(u);
      items.push(item);
    }
  }
  return buildUserItems(nUsers, Int32Array.from(users), Int32Array.from(items));
}

/** `count` distinct items in [0, nItems) outside the sorted slice `seen[lo..hi)`. */
function drawUser(seen: Int32Array, lo: number, hi: number, nItems: number, count: number, rng: Rng): Int32Array {
  const available = nItems - distinctCount(seen, lo, hi);
  if (count * 4 > available) {
    // Dense case: list the candidates, keep a uniform subset by a partial Fisher–Yates shuffle.
    const candidates = new Int32Array(available);
    for (let item = 0, n = 0, j = lo; item < nItems; item++) {
      while (j < hi && seen[j] < item) j++;
      if (j < hi && seen[j] === item) continue;
      candidates[n++] = item;
    }
    const take = Math.min(count, available);
    for (let j = 0; j < take; j++) {
      const pick = j + rng.int(available - j);
      const t = candidates[j];
      candidates[j] = candidates[pick];
      candidates[pick] = t;
    }
    return candidates.slice(0, take);
  }
  // Sparse case: rejection sampling.
  const chosen = new Set<number>();
  while (chosen.size < count) {
    const item = rng.int(nItems);
    if (!sortedRangeHas(seen, lo, hi, item)) chosen.add(item);
  }
  return Int32Array.from(chosen);
}

function distinctCount(sorted: Int32Array, lo: number, hi: number): number {
  let n = 0;
  for (let j = lo; j < hi; j++) if (j === lo || sorted[j] !== sorted[j - 1]) n++;
  return n;
}
