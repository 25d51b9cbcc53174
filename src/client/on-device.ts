/**
 * What a client computes for itself with the global model and its own local tables: its top-K
 * recommendations, and (with held-out data) its sampled-protocol metrics — the per-(user, positive)
 * sums the in-process `evaluateRanking` averages, so many clients' reports combine exactly.
 */
import { createModel } from '../models/registry.js';
import type { GlobalParams, LocalParams, ModelConfig, RecModel } from '../models/types.js';
import { ranksAmong } from '../eval/ranks.js';
import { rankingMetrics } from '../eval/metrics.js';
import type { MetricMap, Scorer } from '../eval/types.js';
import type { ClientData, RoundPlan } from '../federated/types.js';
import { findAlgorithm } from '../algorithms/registry.js';
import type { EvalRows } from './local-data.js';
import type { DeviceInputs } from './works.js';

export function deviceModel(config: ModelConfig, global: GlobalParams, local: LocalParams, nUsers: number, nItems: number): RecModel {
  return createModel(config, nUsers, nItems, { global, local });
}

/**
 * The scorer of this device's users (the one scoring contract, eval/types.ts `Scorer`): the
 * algorithm's own (text-graph, LightGCN: src/algorithms/), else the model the plan's `model` names.
 */
export function deviceScorer(info: { readonly algorithm: string; readonly plan: { readonly model: { readonly kind: string } } }, global: GlobalParams, local: LocalParams, data: ClientData, nItems: number, device?: DeviceInputs): Scorer {
  const scorer = findAlgorithm(info.algorithm)?.scorer;
  return scorer ? scorer(info.plan as unknown as RoundPlan, global, local, data, nItems, device) : deviceModel(info.plan.model as ModelConfig, global, local, data.users.length, nItems);
}

export interface MetricSums {
  /** Number of (user, held-out positive) pairs. */
  readonly count: number;
  readonly sums: MetricMap;
}

/** Sampled protocol on this device's users: sums of per-pair metrics over held-out positives. */
export function sampledSums(model: Scorer, evaluation: readonly EvalRows[], part: 'validation' | 'test', ks: readonly number[]): MetricSums {
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
