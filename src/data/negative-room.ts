/**
 * A split must leave every user at least one item to draw as a training negative: the sampler
 * excludes the user's train and held-out positives and the evaluation negatives (data/negatives.ts).
 * A tiny or extremely dense data set can leave none; this says so before training, in one line,
 * instead of failing inside the sampler.
 */
import { DataError } from './errors.js';
import type { ImplicitSplit, UserItems } from './types.js';

export function checkNegativeRoom(split: ImplicitSplit, source: string, userIds?: readonly string[]): void {
  const parts: UserItems[] = [split.train, split.validation, split.test, split.negatives.validation, split.negatives.test];
  const seen = new Set<number>();
  for (let u = 0; u < split.nUsers; u++) {
    if (split.train.indptr[u + 1] === split.train.indptr[u]) continue;
    seen.clear();
    for (const p of parts) for (let j = p.indptr[u]; j < p.indptr[u + 1]; j++) seen.add(p.indices[j]);
    if (seen.size >= split.nItems) {
      throw new DataError(source, undefined,
        `too few items to train: user ${userIds?.[u] ?? u} has interacted with, or holds for evaluation, every one of the ${split.nItems} items, ` +
        'so no item is left to sample as a training negative (the evaluation draws up to 99 negatives per user; use data with more items)');
    }
  }
}
