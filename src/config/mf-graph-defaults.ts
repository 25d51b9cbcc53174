/**
 * Defaults of shared config fields for MF under graph aggregation (`--model mf --algorithm graph`:
 * GPFedRec, Zhang et al., KDD 2024, with an MF client; recipes/mf-graph-experiment.ts), filled in
 * before validation and only for fields the user did not give. They start from FedAvg MF's tuned
 * federated defaults (config/config.ts: client SGD lr 1, L2 3e-3, batch 32, 2 local epochs, server
 * Adam, recency 20×3) and were chosen on the VALIDATION split of ML-100K (leave-one-out by time,
 * sampled-99, NDCG@10; docs/graph.md has the table).
 * No imports: the config schema uses this module.
 */
export const MF_GRAPH_DEFAULTS: Record<string, unknown> = {
  optimizer: 'sgd', lr: 1, l2: 3e-3, batch: 32, localEpochs: 2, serverOptimizer: 'adam', serverLr: 0.02, rounds: 100, evalEvery: 10,
  recencyWindow: 20, recencyWeight: 3, lambda: 0.1,
};

/** Fills the MF graph-aggregation defaults into raw options when `algorithm` is 'graph' and `model` mf (or absent), federated. */
export function withMfGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (given.algorithm !== 'graph' || !['mf', undefined].includes(given.model as string | undefined) || given.mode === 'central') return raw;
  return { ...MF_GRAPH_DEFAULTS, ...given };
}
