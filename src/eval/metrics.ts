/**
 * Pure metric functions (EVALUATION.md). Ranking metrics take the 0-based, possibly fractional
 * (tie-fair) ranks of one user's held-out positives, in any order, and a cutoff K; a positive
 * counts as retrieved when its rank < K. Explicit metrics: RMSE, MAE and rating accuracy
 * (|y − ŷ| ≤ 0.5).
 */
import type { ExplicitMetrics, MetricMap } from './types.js';

/** 1 if any positive is ranked within the top K, else 0. */
export function hitRate(ranks: ArrayLike<number>, k: number): number {
  checkRanks(ranks, k);
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) return 1;
  return 0;
}

/** DCG of the positives within the top K (gain 1/log2(rank+2)) over the ideal DCG for min(#pos, K) positives. */
export function ndcg(ranks: ArrayLike<number>, k: number): number {
  checkRanks(ranks, k);
  let dcg = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) dcg += 1 / Math.log2(ranks[i] + 2);
  let idcg = 0;
  for (let i = 0; i < Math.min(ranks.length, k); i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

/** 1/(r+1) for the best-ranked positive r if r < K, else 0. */
export function mrr(ranks: ArrayLike<number>, k: number): number {
  checkRanks(ranks, k);
  let best = Infinity;
  for (let i = 0; i < ranks.length; i++) best = Math.min(best, ranks[i]);
  return best < k ? 1 / (best + 1) : 0;
}

/** AP@K: over positives sorted by rank, the j-th (0-based) with rank r < K adds (j+1)/(r+1); divided by min(#pos, K). */
export function averagePrecision(ranks: ArrayLike<number>, k: number): number {
  checkRanks(ranks, k);
  const sorted = Float64Array.from(ranks).sort();
  let sum = 0;
  for (let j = 0; j < sorted.length && sorted[j] < k; j++) sum += (j + 1) / (sorted[j] + 1);
  return sum / Math.min(sorted.length, k);
}

/** Fraction of the positives ranked within the top K. */
export function recall(ranks: ArrayLike<number>, k: number): number {
  return countWithin(ranks, k) / ranks.length;
}

/** Positives ranked within the top K, divided by K. */
export function precision(ranks: ArrayLike<number>, k: number): number {
  return countWithin(ranks, k) / k;
}

/** All six ranking metrics for every K, keyed `HR@K`, `NDCG@K`, `MRR@K`, `MAP@K`, `Recall@K`, `Precision@K`. */
export function rankingMetrics(ranks: ArrayLike<number>, ks: readonly number[]): MetricMap {
  const metrics: MetricMap = {};
  for (const k of ks) metrics[`HR@${k}`] = hitRate(ranks, k);
  for (const k of ks) metrics[`NDCG@${k}`] = ndcg(ranks, k);
  for (const k of ks) metrics[`MRR@${k}`] = mrr(ranks, k);
  for (const k of ks) metrics[`MAP@${k}`] = averagePrecision(ranks, k);
  for (const k of ks) metrics[`Recall@${k}`] = recall(ranks, k);
  for (const k of ks) metrics[`Precision@${k}`] = precision(ranks, k);
  return metrics;
}

export interface ExplicitMetricsOptions {
  /** Clip predictions into `range` before scoring (default false). */
  readonly clip?: boolean;
  /** Rating range used when clipping (default [1, 5]). */
  readonly range?: readonly [number, number];
}

/** RMSE, MAE and rating accuracy (|y − ŷ| ≤ 0.5) of `predictions` against `targets`. */
export function explicitMetrics(
  predictions: Float32Array,
  targets: Float32Array,
  opts: ExplicitMetricsOptions = {},
): ExplicitMetrics {
  if (predictions.length !== targets.length) {
    throw new Error(`explicitMetrics: ${predictions.length} predictions for ${targets.length} targets`);
  }
  if (targets.length === 0) throw new Error('explicitMetrics: no ratings to evaluate');
  const [low, high] = opts.range ?? [1, 5];
  let squared = 0;
  let absolute = 0;
  let accurate = 0;
  for (let i = 0; i < targets.length; i++) {
    const prediction = opts.clip ? Math.min(high, Math.max(low, predictions[i])) : predictions[i];
    const error = Math.abs(targets[i] - prediction);
    squared += error * error;
    absolute += error;
    if (error <= 0.5) accurate++;
  }
  const n = targets.length;
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, ratingAccuracy: accurate / n };
}

function countWithin(ranks: ArrayLike<number>, k: number): number {
  checkRanks(ranks, k);
  let count = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) count++;
  return count;
}

function checkRanks(ranks: ArrayLike<number>, k: number): void {
  if (ranks.length === 0) throw new Error('ranking metrics need at least one positive');
  if (!Number.isInteger(k) || k < 1) throw new Error(`ranking cutoff K must be a positive integer, got ${k}`);
}
