/**
 * Rating prediction for users never seen in training (EVALUATION.md, explicit feedback, unseen
 * users — the FedRecon protocol): each evaluation user's ratings are split into a reconstruction
 * part and a disjoint evaluation part; an `UnseenRater` sees the reconstruction part and predicts
 * the evaluation part. Metrics pool every evaluated (user, rating) pair; predictions are clipped
 * to the rating range for every rater alike.
 *
 * Baselines, fitted on the training users' ratings only:
 *   globalMean    μ;
 *   itemMean      the item's mean rating (μ for an item no training user rated);
 *   userItemBias  μ + b_u + b_i, the baseline predictor of Koren (TKDD 2010, eq. 2–3):
 *                 b_i = Σ(r − μ) / (λ_i + n_i) over training users, and b_u reconstructed in closed
 *                 form from the user's reconstruction ratings, b_u = Σ(r − μ − b_i) / (λ_u + n_u).
 */
import { explicitMetrics } from './metrics.js';
import type { ExplicitMetrics } from './types.js';

export interface RatedItems {
  readonly items: Int32Array;
  readonly ratings: Float32Array;
}

/** An evaluation user: the ratings it may learn from and the disjoint ratings it is scored on. */
export interface UnseenUser {
  readonly user: number;
  readonly reconstruction: RatedItems;
  readonly evaluation: RatedItems;
}

export interface UnseenRater {
  /** Writes a prediction for each of `user.evaluation.items` into `out`, using only `user.reconstruction`. */
  predict(user: UnseenUser, out: Float32Array): void;
}

export const RATING_RANGE: readonly [number, number] = [1, 5];

export function evaluateUnseenExplicit(rater: UnseenRater, users: readonly UnseenUser[], range = RATING_RANGE): ExplicitMetrics {
  let n = 0;
  for (const u of users) n += u.evaluation.items.length;
  const predictions = new Float32Array(n);
  const targets = new Float32Array(n);
  let k = 0;
  for (const u of users) {
    const m = u.evaluation.items.length;
    if (m === 0) continue;
    rater.predict(u, predictions.subarray(k, k + m));
    targets.set(u.evaluation.ratings, k);
    k += m;
  }
  return explicitMetrics(predictions, targets, { clip: true, range });
}

export interface BaselineOptions {
  /** λ_i, shrinking item biases of rarely rated items towards 0 (default 25). */
  readonly itemDamping?: number;
  /** λ_u, shrinking the reconstructed user bias towards 0 (default 10). */
  readonly userDamping?: number;
}

export type RatingBaselineName = 'globalMean' | 'itemMean' | 'userItemBias';

/** The three baselines, fitted on `training` (one entry per training user). */
export function ratingBaselines(training: readonly RatedItems[], nItems: number, opts: BaselineOptions = {}): Record<RatingBaselineName, UnseenRater> {
  const itemDamping = opts.itemDamping ?? 25;
  const userDamping = opts.userDamping ?? 10;
  const sums = new Float64Array(nItems);
  const counts = new Float64Array(nItems);
  let total = 0;
  let n = 0;
  for (const { items, ratings } of training) {
    for (let k = 0; k < items.length; k++) {
      sums[items[k]] += ratings[k];
      counts[items[k]]++;
      total += ratings[k];
      n++;
    }
  }
  if (n === 0) throw new Error('rating baselines: the training users have no ratings');
  const mu = total / n;
  const itemMean = Float32Array.from(sums, (s, i) => (counts[i] > 0 ? s / counts[i] : mu));
  const itemBias = Float32Array.from(sums, (s, i) => (s - mu * counts[i]) / (itemDamping + counts[i]));
  return {
    globalMean: { predict: (_u, out) => out.fill(mu) },
    itemMean: {
      predict: (u, out) => u.evaluation.items.forEach((i, k) => (out[k] = itemMean[i])),
    },
    userItemBias: {
      predict: (u, out) => {
        const { items, ratings } = u.reconstruction;
        let residual = 0;
        for (let k = 0; k < items.length; k++) residual += ratings[k] - mu - itemBias[items[k]];
        const bu = residual / (userDamping + items.length);
        u.evaluation.items.forEach((i, k) => (out[k] = mu + bu + itemBias[i]));
      },
    },
  };
}
