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
export const GRAPH_CENTRAL_DEFAULTS = { dim: 64, epochs: 40, batch: 4096, lr: 0.01 } as const;

const GRAPH_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  central: GRAPH_CENTRAL_DEFAULTS,
  federated: { dim: 64, rounds: 20, localEpochs: 1, batch: 32, lr: 0.01 },
};

/** Fills graph-model defaults into raw options when `model` is lightgcn or ncl. */
export function withGraphDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (typeof given.model !== 'string' || !isGraphModel(given.model)) return raw;
  return { ...GRAPH_DEFAULTS[given.mode === 'central' ? 'central' : 'federated'], ...given };
}
