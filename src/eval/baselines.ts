/**
 * Reference scorers always reported beside a model (EVALUATION.md "Leakage guards"):
 * popularity (number of TRAIN interactions of the item, held-out interactions never counted) and
 * random (a hash of (seed, user, item), so scores do not depend on call order).
 */
import type { ImplicitSplit } from '../data/types.js';
import type { Scorer } from './types.js';

/**
 * Scores each item by its number of TRAIN interactions over all users; with `withValidation` (the
 * test-history protocol 'train+validation', docs/evaluation.md) the validation interactions count
 * too, as the history every compared model may then read at test.
 */
export function popularityScorer(split: ImplicitSplit, withValidation = false): Scorer {
  const trainCounts = new Float32Array(split.nItems);
  for (const item of split.train.indices) trainCounts[item]++;
  if (withValidation) for (const item of split.validation.indices) trainCounts[item]++;
  return {
    nItems: split.nItems,
    scoreItems(_user, items, out) {
      for (let i = 0; i < items.length; i++) out[i] = trainCounts[items[i]];
    },
  };
}

/** Uniform scores in [0, 1) fixed by (seed, user, item). */
export function randomScorer(nItems: number, seed: number): Scorer {
  const seedKey = mix32(seed);
  return {
    nItems,
    scoreItems(user, items, out) {
      const userKey = mix32(seedKey ^ Math.imul(user + 1, 0x9e3779b1));
      for (let i = 0; i < items.length; i++) {
        // 24 bits: exactly representable in a Float32Array.
        out[i] = (mix32(userKey ^ Math.imul(items[i] + 1, 0x85ebca6b)) >>> 8) / 16777216;
      }
    },
  };
}

/** 32-bit integer finaliser (lowbias32): every input bit affects every output bit. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
