/**
 * What a client computes for itself with the global model and its own local tables: its top-K
 * recommendations, and (with held-out data) its sampled-protocol metrics — the per-(user, positive)
 * sums the in-process `evaluateRanking` averages, so many clients' reports combine exactly.
 */
import { createModel } from '../models/registry.js';
import type { GlobalParams, LocalParams, ModelConfig, RecModel } from '../models/types.js';
import { ranksAmong } from '../eval/ranks.js';
import { rankingMetrics } from '../eval/metrics.js';
import type { MetricMap } from '../eval/types.js';
import type { EvalRows } from './local-data.js';

export function deviceModel(config: ModelConfig, global: GlobalParams, local: LocalParams, nUsers: number, nItems: number): RecModel {
  return createModel(config, nUsers, nItems, { global, local });
}

export interface MetricSums {
  /** Number of (user, held-out positive) pairs. */
  readonly count: number;
  readonly sums: MetricMap;
}

/** Sampled protocol on this device's users: sums of per-pair metrics over held-out positives. */
export function sampledSums(model: RecModel, evaluation: readonly EvalRows[], part: 'validation' | 'test', ks: readonly number[]): MetricSums {
  const sums: MetricMap = {};
  let count = 0;
  evaluation.forEach((rows, user) => {
    const positives = rows[part];
    const negatives = rows.negatives[part];
    if (positives.length === 0 || negatives.length === 0) return;
    const pos = new Float32Array(positives.length);
    const neg = new Float32Array(negatives.length);
    model.scoreItems(user, positives, pos);
    model.scoreItems(user, negatives, neg);
    const ranks = new Float64Array(positives.length);
    ranksAmong(pos, neg, ranks);
    for (let j = 0; j < ranks.length; j++) {
      const m = rankingMetrics(ranks.subarray(j, j + 1), ks);
      for (const name in m) sums[name] = (sums[name] ?? 0) + m[name];
      count++;
    }
  });
  return { count, sums };
}
