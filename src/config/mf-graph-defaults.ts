/**
 * Defaults of shared config fields for MF under graph aggregation (`--model mf --algorithm graph`:
 * GPFedRec, Zhang et al., KDD 2024, with an MF client; recipes/mf-graph-experiment.ts), filled in
 * before validation and only for fields the user did not give. They start from FedAvg MF's tuned
 * federated defaults (config/config.ts: client SGD lr 1, L2 3e-3, batch 32, 2 local epochs, server
 * Adam, recency 20×3) and were chosen on the VALIDATION split of ML-100K (leave-one-out by time,
 * sampled-99, NDCG@10 at round 40 of 40-round runs; docs/graph.md has the table): λ 0 / 0.1 / 1 gave
 * 0.3901 / 0.3916 / 0.3919 (no difference beyond noise: λ stays the seed's 0.1); 20 neighbours
 * instead of 10 gave 0.4026 (HR@10 0.7010 against 0.6787), so 20.
 * No imports: the config schema uses this module.
 */
export const MF_GRAPH_DEFAULTS: Record<string, unknown> = {
  optimizer: 'sgd', lr: 1, l2: 3e-3, batch: 32, localEpochs: 2, serverOptimizer: 'adam', serverLr: 0.02, rounds: 100, evalEvery: 10,
  recencyWindow: 20, recencyWeight: 3, lambda: 0.1, neighbors: 20,
};

/** Fills the MF graph-aggregation defaults into raw options when `algorithm` is 'graph' and `model` mf (or absent), federated. */
export function withMfGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (given.algorithm !== 'graph' || !['mf', undefined].includes(given.model as string | undefined) || given.mode === 'central') return raw;
  return { ...MF_GRAPH_DEFAULTS, ...given };
}
