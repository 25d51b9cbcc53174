/**
 * Defaults of shared config fields for model 'text-graph' (UFGraphFR / GPFedRec; runtime/
 * text-graph-experiment.ts), filled in before validation and only for fields the user did not give,
 * so `fedrec train --model text-graph --algorithm graph --data ml-100k` runs the configuration of
 * bench `text-graph-compare`. Client lr and batch were looked at on the VALIDATION split of ML-100K
 * (leave-one-out by time, sampled-99; lr 0.05 raised HR@10 but lowered NDCG@10, the selection
 * score); test metrics are those of the best-validation round (`--select best`). Not tuned further:
 * validation was still rising at round 15 of the measured run.
 * No imports: the config schema uses this module.
 */
export const TEXT_GRAPH_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  central: { epochs: 20, batch: 256, lr: 0.002, evalEvery: 2 },
  // Every client every round, one local epoch of minibatches of 64 (Adam, fresh each round).
  federated: { rounds: 30, localEpochs: 1, batch: 64, lr: 0.01, evalEvery: 5 },
};

/** Fills text-graph defaults into raw options when `model` is 'text-graph'. */
export function withTextGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (given.model !== 'text-graph') return raw;
  return { ...TEXT_GRAPH_DEFAULTS[given.mode === 'central' ? 'central' : 'federated'], ...given };
}
