/** Evaluation (shared/design/EVALUATION.md): metrics, sampled and full ranking, baseline scorers. */
export type { ExplicitMetrics, MetricMap, Protocol, RankingResult, Scorer } from './types.js';
export {
  averagePrecision,
  explicitMetrics,
  hitRate,
  mrr,
  ndcg,
  precision,
  rankingMetrics,
  recall,
  type ExplicitMetricsOptions,
} from './metrics.js';
export { ranksAmong, ranksWithin } from './ranks.js';
export { evaluateRanking, type RankingOptions } from './ranking.js';
export { popularityScorer, randomScorer } from './baselines.js';
