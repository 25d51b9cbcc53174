/**
 * Defaults of shared config fields for model 'text-graph' (UFGraphFR / GPFedRec; recipes/
 * text-graph-experiment.ts), filled in before validation and only for fields the user did not give,
 * so `fedrec train --model text-graph --algorithm graph --data ml-100k` runs the configuration of
 * bench `text-graph-compare`. Chosen on the VALIDATION split of ML-100K (leave-one-out by time,
 * sampled-99; selection score NDCG@10, test reported at the best-validation round; docs/graph.md):
 * - federated: clients run plain SGD (batch 32, 2 local epochs; lr below) and the server applies the
 *   aggregate with Adam (lr 0.1), as MF's FedAvg defaults; with lr 0.2, graph aggregation, 20 rounds,
 *   no recency weighting: validation HR@10 / NDCG@10 0.584 / 0.284 (lr 0.5 and 1 epoch: 0.581 / 0.271; L2 1e-3:
 *   0.428 / 0.222; client Adam lr 0.01, the earlier default, left text-graph FedAvg at HR@10 0.36,
 *   measured before the shared W_init);
 * - both modes: recency weighting, each user's 20 latest train interactions counting 3 times
 *   (train/recency.ts): graph aggregation, 20 rounds, 0.615 / 0.308 (10 latest ×5: 0.588 / 0.277);
 *   centrally 0.658 / 0.384 (vs 0.651 / 0.371 without), its best epoch 6 of 20;
 * - 30 rounds: 0.616 / 0.322 at round 30 (round 25: 0.621 / 0.315).
 * The head (`head`, schema default 'mlp+dot': the MLP plus e_u·q_i) was chosen on validation too:
 * graph aggregation 0.658 / 0.394 with it at 30 rounds, centrally 0.671 / 0.410.
 * With that head, client SGD lr 0.05 and 40 rounds: 0.681 / 0.401 at round 35 (lr 0.1: 0.680 / 0.400
 * at round 25; lr 0.1 with 1 local epoch: 0.678 / 0.396; λ 1, head [64, 32, 16] and personal rows
 * 'union' all ≤ 0.396 at lr 0.2).
 * The recent-items term (`recentItems` 10: e_u adds the mean item vector of the user's 10 latest
 * train positives; models/text-graph/model.ts), in every mode, over seeds 42, 43, 44 of graph
 * aggregation with that head: validation 0.691 / 0.408 (mean) against 0.675 / 0.399 without it, higher
 * NDCG@10 on every seed; 5 latest: 0.682 / 0.405; 20 latest (seed 42 only): 0.679 / 0.403.
 * At test the recent items are the user's latest TRAIN positives, as every model reads only train
 * at test (the common protocol, docs/evaluation.md); `--test-history train+validation` is a protocol
 * option, never this model's default.
 * No imports: the config schema uses this module.
 */
const BOTH_MODES = { recencyWindow: 20, recencyWeight: 3, recentItems: 10 };
export const TEXT_GRAPH_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  central: { epochs: 20, batch: 256, lr: 0.002, evalEvery: 2, ...BOTH_MODES },
  // Every client every round.
  // Graph aggregation, the paper's algorithm, unless --algorithm fedavg is asked for.
  federated: { algorithm: 'graph', rounds: 40, localEpochs: 2, batch: 32, optimizer: 'sgd', lr: 0.05, serverOptimizer: 'adam', serverLr: 0.1, evalEvery: 5, ...BOTH_MODES },
};

/** Fills text-graph defaults into raw options when `model` is 'text-graph'. */
export function withTextGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (given.model !== 'text-graph') return raw;
  return { ...TEXT_GRAPH_DEFAULTS[given.mode === 'central' ? 'central' : 'federated'], ...given };
}
