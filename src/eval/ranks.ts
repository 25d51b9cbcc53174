/**
 * Tie-fair 0-based ranks (EVALUATION.md): rank = #strictly-greater scores + ½·#equal scores,
 * the scored item itself excluded. Cost O(n log p) for n compared scores and p ranked items.
 * A NaN score is an error: it would compare as neither greater nor equal and inflate the rank.
 */

/** Ranks each score of `targets` against the scores `others` (targets are not compared with each other). */
export function ranksAmong(targets: Float32Array, others: Float32Array, out: Float64Array): void {
  const p = targets.length;
  if (p === 0) return;
  const sorted = targets.slice().sort();
  if (Number.isNaN(sorted[p - 1])) throw new Error('ranking: a scorer returned NaN');
  // countAbove[b]: scores greater than exactly the b smallest targets; equalDiff: difference array of ties.
  const countAbove = new Int32Array(p + 1);
  const equalDiff = new Int32Array(p + 1);
  const lowest = sorted[0];
  const highest = sorted[p - 1];
  for (let i = 0; i < others.length; i++) {
    const score = others[i];
    // Fast paths: most scores lie below or above every target.
    if (score < lowest) continue;
    if (score > highest) {
      countAbove[p]++;
      continue;
    }
    if (Number.isNaN(score)) throw new Error('ranking: a scorer returned NaN');
    const below = lowerBound(sorted, score);
    countAbove[below]++;
    if (below < p && sorted[below] === score) {
      equalDiff[below]++;
      equalDiff[upperBound(sorted, score)]--;
    }
  }
  const greater = new Float64Array(p);
  for (let j = p - 1, above = 0; j >= 0; j--) {
    above += countAbove[j + 1];
    greater[j] = above;
  }
  const fairRankOfSorted = new Float64Array(p);
  for (let j = 0, equal = 0; j < p; j++) {
    equal += equalDiff[j];
    fairRankOfSorted[j] = greater[j] + 0.5 * equal;
  }
  for (let t = 0; t < p; t++) out[t] = fairRankOfSorted[lowerBound(sorted, targets[t])];
}

/**
 * Ranks the first `nTargets` entries of `scores` against all other entries of `scores`
 * (including the other targets, as in RecBole's full ranking).
 */
export function ranksWithin(scores: Float32Array, nTargets: number, out: Float64Array): void {
  ranksAmong(scores.subarray(0, nTargets), scores, out);
  // Each target was compared with itself as well: remove that one tie.
  for (let t = 0; t < nTargets; t++) out[t] -= 0.5;
}

/** First index whose value is ≥ `value` in an ascending array. */
function lowerBound(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > `value` in an ascending array. */
function upperBound(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
