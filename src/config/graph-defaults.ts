/**
 * Which models are graph models (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022), and
 * the defaults of shared config fields that differ for them, filled in before validation and only
 * for fields the user did not give. No imports: the config schema uses this module.
 */
export const GRAPH_MODELS = ['lightgcn', 'ncl'] as const;

export function isGraphModel(model: string): model is (typeof GRAPH_MODELS)[number] {
  return (GRAPH_MODELS as readonly string[]).includes(model);
}

/** Defaults of shared fields for graph models, by mode (the schema's defaults are MF's). */
/**
 * Centralised defaults, chosen on the VALIDATION split of ML-100K (per-user 8:1:1 ratio split, full
 * ranking, bench `graph-compare`): batch 4096 with Adam lr 0.01 for 40 epochs (LightGCN's
 * validation NDCG@10 still rises slowly at 40: 0.2047 / 0.2301 / 0.2442 / 0.2495 at epochs
 * 10 / 20 / 30 / 40; an NCL epoch cost ~10 CPU-seconds when this was chosen, so 40 was the
 * budget). NCL's weights: ssl_reg 1e-6 (RecBole's 1e-7 is too weak for ML-100K's ~20 batches
 * per epoch: the losses are sums over the batch) and proto_reg 1e-7, warm-up 20 epochs (schema
 * default).
 * The best-validation epoch is reported (`--select best`, probed every `--eval-every` epochs).
 */
export const GRAPH_CENTRAL_DEFAULTS = { dim: 64, epochs: 40, batch: 4096, lr: 0.01, sslReg: 1e-6, protoReg: 1e-7 } as const;

const GRAPH_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  central: GRAPH_CENTRAL_DEFAULTS,
  // Federated: every client per round, one local epoch of minibatches of 32; NCL's item
  // prototypes (server-side k-means) switch on after 5 rounds.
  federated: { dim: 64, rounds: 20, localEpochs: 1, batch: 32, lr: 0.01, protoReg: 1e-7, warmUp: 5 },
};

/** Fills graph-model defaults into raw options when `model` is lightgcn or ncl. */
export function withGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (typeof given.model !== 'string' || !isGraphModel(given.model)) return raw;
  return { ...GRAPH_DEFAULTS[given.mode === 'central' ? 'central' : 'federated'], ...given };
}
