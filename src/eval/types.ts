/**
 * Shapes shared by the evaluation modules: the scorer a model exposes to evaluation, metric maps and
 * result records. Metric names and result shape follow shared/design/EVALUATION.md
 * (`HR@K`, `NDCG@K`, `MRR@K`, `MAP@K`, `Recall@K`, `Precision@K`; `sampled` / `full` per split part).
 */

/** What evaluation needs from a model: scores for a list of items of one dense user id. */
export interface Scorer {
  /** Number of items the model scores; item ids are 0..nItems-1. */
  readonly nItems: number;
  /** Writes the score of `items[i]` for `user` into `out[i]`; `out.length === items.length`. */
  scoreItems(user: number, items: Int32Array, out: Float32Array): void;
}

/** Metric name (`HR@10`, `NDCG@10`, `MRR@10`, `MAP@10`, `Recall@10`, `Precision@10`, any K) → value. */
export type MetricMap = Record<string, number>;

/** `sampled`: NCF protocol (held-out item vs fixed sampled negatives); `full`: RecBole protocol. */
export type Protocol = 'sampled' | 'full';

/** Ranking metrics of one split part, one map per protocol evaluated. */
export interface RankingResult {
  sampled?: MetricMap;
  full?: MetricMap;
}

/** Rating-prediction metrics; `ratingAccuracy` is the fraction with |y − ŷ| ≤ 0.5. */
export interface ExplicitMetrics {
  rmse: number;
  mae: number;
  ratingAccuracy: number;
}
