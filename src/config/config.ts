/**
 * The configuration of a training run, validated once at the edge (CLI flags or a JSON file) by a
 * zod schema that carries the defaults. Inside, code receives the parsed, readonly `TrainConfig`.
 * Defaults are the tuned ones: plain `fedrec train --data ml-100k --mode federated` reaches the
 * quality targets without flags.
 */
import type { RecencyWeighting } from '../train/recency.js';
import { z } from 'zod';
import type { OptimizerConfig } from '../optim/types.js';
import { withGraphDefaults } from './graph-defaults.js';
import { withTextGraphDefaults } from './text-graph-defaults.js';
import { withIalsDefaults } from './ials-defaults.js';
import { withMfGraphDefaults } from './mf-graph-defaults.js';
import { ALGORITHM_NAMES, ALGORITHM_OPTIONS, algorithmsWith, defaultsOf, findAlgorithm, sayNames } from '../algorithms/registry.js';
import { MODEL_NAMES, MODEL_OPTIONS } from '../models/registry.js';
import { ConfigError, clientOptimizerOf, effectiveBatch, effectiveLr } from './config-derived.js';

const positiveInt = z.number().int().positive();
/** Default L2 bound of one client update (see docs/robustness.md for how it was checked). */
export const CLIP_NORM_DEFAULT = 10;
/** Default adaptive clip: κ × the previous round's median update norm (docs/robustness.md). */
export const ADAPTIVE_CLIP_DEFAULT = 1;
const probability = z.number().gt(0).lte(1);
/** The text-graph model's options (models/registry.ts), listed field by field among graph aggregation's. */
const TEXT_GRAPH = MODEL_OPTIONS['text-graph'].shape;

export const trainConfigSchema = z
  .object({
    data: z.string().optional(),
    splitFiles: z.string().optional(), // a folder of split files (data/split-files.ts) instead of data + split
    format: z.enum(['auto', 'ml-100k', 'ml-1m', 'csv']).default('auto'),
    columns: z.array(z.string()).optional(),
    sep: z.string().optional(),
    ratingThreshold: z.number().optional(),
    syntheticUsers: positiveInt.default(943),
    syntheticItems: positiveInt.default(1682),
    syntheticInteractions: positiveInt.default(100_000),
    split: z.string().regex(/^(loo|ratio:[\d.]+,[\d.]+,[\d.]+)$/, { message: "expected 'loo' or 'ratio:TRAIN,VALID,TEST' (e.g. ratio:0.8,0.1,0.1)" }).default('loo'),
    // The registered models (src/models/registry.ts).
    model: z.enum(MODEL_NAMES).default('mf'),
    // LightGCN / NCL (config/graph-settings.ts): their options, declared in models/registry.ts.
    ...MODEL_OPTIONS.ncl.shape,
    dim: positiveInt.default(32),
    layers: z.array(positiveInt).default([32, 16, 8]),
    mode: z.enum(['central', 'federated']).default('federated'),
    // The registered algorithms (src/algorithms/registry.ts).
    algorithm: z.enum(ALGORITHM_NAMES).default('fedavg'),
    // Precision of the model download (wire/quantize.ts): float32, half precision, or 8-bit with a scale per row.
    download: z.enum(['f32', 'f16', 'q8']).default('f32'),
    // iALS (model 'ials', config/ials-defaults.ts): its options, declared in models/registry.ts.
    ...MODEL_OPTIONS.ials.shape,
    // Text-aware graph aggregation (model 'text-graph', algorithm 'graph': recipes/text-graph-experiment.ts);
    // the model's options are declared in models/registry.ts, graph aggregation's in algorithms/graph.ts.
    encoder: TEXT_GRAPH.encoder,
    encoderModel: TEXT_GRAPH.encoderModel,
    cacheDir: TEXT_GRAPH.cacheDir,
    userText: TEXT_GRAPH.userText,
    textAblation: TEXT_GRAPH.textAblation,
    lambda: TEXT_GRAPH.lambda,
    recentItems: TEXT_GRAPH.recentItems,
    // What test may read as history (EVALUATION.md): 'train' for every model by default;
    // 'train+validation' is a protocol option for the models that read a history at test.
    testHistory: z.enum(['train', 'train+validation']).default('train'),
    head: TEXT_GRAPH.head,
    feedback: z.enum(['implicit', 'explicit']).default('implicit'),
    loss: z.enum(['bce', 'bpr', 'softmax']).default('bce'), // softmax: sampled softmax over each positive and its negatives (train/softmax.ts)
    rounds: positiveInt.default(60),
    epochs: positiveInt.default(20),
    clientsPerRound: positiveInt.optional(),
    fraction: probability.optional(),
    usersPerClient: positiveInt.default(1),
    workers: positiveInt.default(1),
    localEpochs: positiveInt.default(2),
    batch: positiveInt.optional(),
    lr: z.number().positive().optional(),
    optimizer: z.enum(['sgd', 'adam']).default('adam'),
    l2: z.number().min(0).default(0),
    serverLr: z.number().positive().default(1),
    serverMomentum: z.number().min(0).lt(1).default(0),
    serverOptimizer: z.enum(['sgd', 'adam']).default('sgd'),
    // Server Adam's ε (FedAdam's τ, Reddi et al. 2021: the degree of adaptivity); absent: 1e-8.
    serverEps: z.number().positive().optional(),
    rowAveraging: z.enum(['touched', 'all']).default('touched'),
    negatives: positiveInt.default(4),
    recencyWindow: z.number().int().min(0).default(0),
    recencyWeight: positiveInt.default(1),
    // Default by split (withEvalDefault): sampled on leave-one-out, sampled and full on a ratio split.
    eval: z.array(z.enum(['sampled', 'full'])).min(1).default(['sampled', 'full']),
    k: z.array(positiveInt).min(1).default([10, 20]),
    evalEvery: positiveInt.default(5),
    select: z.enum(['best', 'last']).default('best'),
    seed: z.number().int().default(42),
    // The registered algorithms' own fields (src/algorithms/<name>.ts), e.g. FedRecon's reconstruction settings.
    ...ALGORITHM_OPTIONS,
    // Bounded influence (federated/bounds.ts): the server, not the client, decides an update's
    // weight (uniform by default) and clips its L2 norm (0: no clip). Defaults checked on validation.
    clientWeighting: z.enum(['examples', 'uniform']).default('uniform'),
    clipNorm: z.number().min(0).default(CLIP_NORM_DEFAULT),
    // Adaptive clip (federated/adaptive-clip.ts): each round's bound is this multiple of the previous
    // round's median update norm, capped by clipNorm; 0: clipNorm only. Chosen on validation and the
    // attack bench (docs/robustness.md); FedRecon and DP runs keep 0.
    adaptiveClip: z.number().min(0).default(ADAPTIVE_CLIP_DEFAULT),
    // Server aggregation rule (federated/robust.ts): FedAvg's mean, or a Byzantine-robust statistic.
    aggregation: z.enum(['mean', 'median', 'trimmed-mean', 'norm-bounded']).default('mean'),
    trimFraction: z.number().min(0).lt(0.5).default(0.1),
    // Row bounds (federated/row-bound.ts), multiples of the round's L2 bound: the largest norm of one
    // item row of an update, and the largest sum of its row norms (L2,1); 0: none. Federated MF under
    // FedAvg/FedProx: rowShare MF_ROBUST_DEFAULTS (docs/robustness.md); elsewhere 0.
    rowShare: z.number().min(0).default(0),
    rowSpread: z.number().min(0).default(0),
    // Centre the server's averaged item-row update (federated/center-items.ts: ranking-invariant for
    // MF only); on for federated MF under FedAvg/FedProx (MF_ROBUST_DEFAULTS), off elsewhere.
    centerItems: z.boolean().optional(),
    // User-level DP (privacy/dp-fedavg.ts): on when dpClip is given; q is `fraction` (Poisson).
    dpClip: z.number().positive().optional(),
    dpNoiseMultiplier: z.number().min(0).default(0),
    dpMode: z.enum(['central', 'distributed']).default('central'),
    dpDelta: z.number().gt(0).lt(1).optional(),
    dpQuantile: z.number().gt(0).lt(1).optional(),
    dpClipLr: z.number().positive().default(0.2),
    dpCountNoise: z.number().positive().optional(),
    dpNoise: z.enum(['seeded', 'secure']).default('seeded'),
  })
  .strict()
  .refine((c) => c.splitFiles === undefined || c.data === undefined, {
    message: 'give either splitFiles (a split folder) or data, not both',
    path: ['splitFiles'],
  })
  .refine((c) => c.splitFiles === undefined || c.algorithm !== 'fedrecon', {
    message: "algorithm 'fedrecon' evaluates unseen users on its own user split; split files fix held-out items per user, not users",
    path: ['splitFiles'],
  })
  .refine((c) => !c.eval.includes('full') || c.splitFiles !== undefined || c.split.startsWith('ratio:'), {
    message: "full ranking is reported on ratio splits only (--split ratio:0.8,0.1,0.1): on leave-one-out, training negatives cannot serve the sampled and the full protocol honestly at once (docs/evaluation.md)",
    path: ['eval'],
  })
  .refine((c) => c.model !== 'neumf' || c.layers.length > 0, {
    message: 'NeuMF needs at least one MLP layer',
    path: ['layers'],
  })
  .refine((c) => c.recentItems === 0 || c.model === 'text-graph', {
    message: "the recent-items term of e_u needs model 'text-graph'",
    path: ['recentItems'],
  })
  .refine((c) => c.testHistory === 'train' || (c.model === 'text-graph' && c.recentItems > 0), {
    message: "'train+validation' applies only to a model that reads a history at test (text-graph with recentItems > 0); the others are trained on train alone and read none",
    path: ['testHistory'],
  })
  .refine((c) => c.mode === 'central' || (findAlgorithm(c.algorithm)?.models ?? [c.model]).includes(c.model), {
    error: (iss) => {
      const c = iss.input as { algorithm: string; model: string };
      return `algorithm '${c.algorithm}' trains model ${sayNames(findAlgorithm(c.algorithm)?.models ?? [], "'")}, not '${c.model}'`;
    },
    path: ['model'],
  })
  .refine((c) => c.model !== 'text-graph' || c.algorithm !== 'fedrecon', {
    message: "model 'text-graph' trains with algorithm 'graph' or 'fedavg'",
    path: ['algorithm'],
  })
  .refine((c) => !(c.clientsPerRound !== undefined && c.fraction !== undefined), {
    message: 'give either clientsPerRound or fraction, not both',
    path: ['fraction'],
  })
  .refine((c) => c.loss !== 'softmax' || c.algorithm !== 'fedrecon', {
    message: "loss 'softmax' (sampled softmax) trains with FedAvg, FedProx or centrally, not with algorithm 'fedrecon'",
    path: ['loss'],
  })
  .refine((c) => c.feedback === 'implicit' || (c.algorithm === 'fedrecon' && c.model === 'mf'), {
    message: "feedback 'explicit' (ratings, MSE) needs algorithm 'fedrecon' with model 'mf'",
    path: ['feedback'],
  })
  .refine((c) => (c.algorithm === 'ials') === (c.model === 'ials') || c.mode === 'central', {
    message: "algorithm 'ials' (federated implicit ALS) goes with model 'ials', and model 'ials' trains federated with algorithm 'ials'",
    path: ['algorithm'],
  })
  .refine((c) => c.model !== 'ials' || c.l2 > 0, {
    message: "iALS needs a regularisation l2 > 0 (its closed-form solves must be positive definite)",
    path: ['l2'],
  })
  .refine((c) => c.download === 'f32' || c.workers === 1, {
    message: 'a quantised download (--download f16 | q8) is simulated on one thread (--workers 1)',
    path: ['workers'],
  })
  .refine((c) => c.model !== 'ials' || c.workers === 1, {
    message: 'the iALS simulation runs on one thread (--workers 1)',
    path: ['workers'],
  })
  .refine((c) => c.dpClip !== undefined || (c.dpNoiseMultiplier === 0 && c.dpQuantile === undefined && c.dpDelta === undefined && c.dpMode === 'central'), {
    message: 'the DP settings need a clip norm (--dp-clip C)',
    path: ['dpClip'],
  })
  .refine((c) => c.dpClip === undefined || (c.mode === 'federated' && ((algorithmsWith('sumsUpdates').includes(c.algorithm) && ['mf', 'neumf'].includes(c.model)) || (c.algorithm === 'fedavg' && ['lightgcn', 'ncl'].includes(c.model)))), {
    message: `user-level DP runs with mode 'federated' and algorithm ${sayNames(algorithmsWith('sumsUpdates'), "'")} with model 'mf' or 'neumf', or algorithm 'fedavg' with model 'lightgcn' or 'ncl'`,
    path: ['dpClip'],
  })
  .refine((c) => c.dpClip === undefined || c.clientsPerRound === undefined, {
    message: 'under DP clients are Poisson-sampled: give the sampling rate with fraction (--fraction q), not clientsPerRound',
    path: ['clientsPerRound'],
  })
  .refine((c) => c.dpClip === undefined || c.workers === 1, {
    message: 'DP runs on one worker (the DP sum clips each client update on the server thread)',
    path: ['workers'],
  })
  .refine((c) => c.dpQuantile === undefined || c.dpMode === 'central', {
    message: "adaptive clipping (dpQuantile) runs in dpMode 'central'",
    path: ['dpQuantile'],
  })
  .refine((c) => c.dpClip === undefined || (c.aggregation === 'mean' && c.clipNorm === 0 && c.adaptiveClip === 0), {
    message: 'under DP the clip is --dp-clip and the sum is a mean: leave --clip-norm, --adaptive-clip and --aggregation at their DP defaults (0, 0, mean)',
    path: ['clipNorm'],
  })
  .refine((c) => c.centerItems !== true || c.model === 'mf', {
    message: "centerItems needs model 'mf' (a shift of every item row reorders nothing only for a dot-product scorer)",
    path: ['centerItems'],
  })
  .refine((c) => c.aggregation === 'mean' || c.workers === 1, {
    message: 'a robust aggregation rule needs every update of a round in one place: use workers 1',
    path: ['workers'],
  })
  .refine((c) => c.algorithm !== 'graph' || c.model !== 'mf' || c.mode === 'central' || (c.loss !== 'softmax' && c.download === 'f32'), {
    message: "MF under graph aggregation trains with loss 'bce' or 'bpr' (its λ term is estimated per example) and float32 downloads (the personal tables are exact)",
    path: ['algorithm'],
  })
  .refine((c) => c.algorithm !== 'fedrecon' || c.mode === 'federated', {
    message: "algorithm 'fedrecon' runs in mode 'federated'",
    path: ['mode'],
  });

/**
 * Defaults of MF / NeuMF under FedAvg and centrally, by mode, chosen on the VALIDATION split of
 * ML-100K (leave-one-out by time). Federated: clients run plain SGD (so averaging their deltas
 * averages gradients; a fresh Adam per client turns each delta into a noisy sign) and the server
 * applies the averaged delta with Adam (FedAdam, Reddi et al., ICLR 2021): validation HR@10 0.66
 * after 40 rounds, against 0.57 with client Adam + server SGD; L2 3e-3 and 100 rounds give the best
 * validation HR@10 (0.68; l2 1e-3: 0.66, 1e-2: 0.53). Centralised: Adam, as NCF.
 * Both: recency weighting, each user's 20 latest train interactions counting 3 times (validation
 * NDCG@10 federated 0.425 vs 0.395 without; 10×3: 0.419; centrally 0.439 vs 0.409; 10×2 0.430,
 * 5×4 0.441, 30×3 0.431). It needs timestamps; without them it is off by itself.
 */
const RECENCY_DEFAULTS = { recencyWindow: 20, recencyWeight: 3 };
const FEDAVG_DEFAULTS: Record<'central' | 'federated', Record<string, unknown>> = {
  federated: { optimizer: 'sgd', lr: 1, l2: 3e-3, batch: 32, localEpochs: 2, serverOptimizer: 'adam', serverLr: 0.02, rounds: 100, evalEvery: 10, ...RECENCY_DEFAULTS },
  central: { optimizer: 'adam', lr: 0.002, l2: 3e-5, batch: 256, ...RECENCY_DEFAULTS },
};

/**
 * Server defences of federated MF under FedAvg (and FedProx, which shares its defaults), issue 19:
 * item centring (federated/center-items.ts) and the per-row bound (federated/row-bound.ts), chosen
 * on validation and the attack bench (docs/robustness.md). MF only: centring is exact only for a
 * dot-product scorer, and the row bound was measured on MF alone. DP runs keep neither (their clip
 * is the DP clip; not re-measured there).
 */
export const MF_ROBUST_DEFAULTS = { centerItems: true, rowShare: 0.17 } as const;

function withFedAvgDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  if (defaultsOf((given.algorithm as string | undefined) ?? 'fedavg') !== 'fedavg' || !['mf', 'neumf', undefined].includes(given.model as string | undefined)) return raw;
  const federated = given.mode !== 'central';
  const robust = federated && (given.model ?? 'mf') === 'mf' && given.dpClip === undefined ? MF_ROBUST_DEFAULTS : {};
  return { ...FEDAVG_DEFAULTS[federated ? 'federated' : 'central'], ...robust, ...given };
}

/**
 * Defaults of shared fields that differ for FedRecon, by feedback; filled in (before validation)
 * when algorithm is 'fedrecon' and the field is absent. FedAvg keeps the schema's defaults.
 */
const FEDRECON_DEFAULTS: Record<'explicit' | 'implicit', Record<string, unknown>> = {
  explicit: {
    feedback: 'explicit', rounds: 300, clientsPerRound: 50, optimizer: 'sgd', lr: 0.2, l2: 0.01, localEpochs: 1, batch: 5,
    reconOptimizer: 'sgd', reconLr: 0.1, reconEpochs: 1, evalEvery: 25, clientWeighting: 'examples', adaptiveClip: 0,
  },
  implicit: {
    feedback: 'implicit', rounds: 300, clientsPerRound: 50, optimizer: 'adam', lr: 0.01, localEpochs: 4, batch: 32,
    reconOptimizer: 'adam', reconLr: 0.05, reconEpochs: 2, evalEvery: 50, clientWeighting: 'examples', adaptiveClip: 0,
  },
};

function withAlgorithmDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || (raw as { algorithm?: unknown }).algorithm !== 'fedrecon') return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const defaults = FEDRECON_DEFAULTS[given.feedback === 'implicit' ? 'implicit' : 'explicit'];
  return given.fraction !== undefined ? { ...defaults, clientsPerRound: undefined, ...given } : { ...defaults, ...given };
}

/**
 * The protocols a run reports unless `eval` is given: full ranking only on a ratio split (leave-one-out
 * trains with negatives that protect the sampled protocol's candidates; docs/evaluation.md).
 */
function withEvalDefault(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || (raw as { eval?: unknown }).eval !== undefined) return raw;
  const split = (raw as { split?: unknown }).split;
  return { ...raw, eval: typeof split === 'string' && split.startsWith('ratio:') ? ['sampled', 'full'] : ['sampled'] };
}

export type TrainConfig = Readonly<z.infer<typeof trainConfigSchema>>;

/**
 * Under DP the reported model is the last round's (select 'last') unless asked otherwise: picking
 * the best round on the users' validation items is a query the accountant does not charge. The DP
 * clip replaces the default server clip (`clipNorm` 0), which would otherwise clip the noised mean.
 */
function withDpDefaults(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || (raw as { dpClip?: unknown }).dpClip === undefined) return raw;
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  return { select: 'last', clipNorm: 0, adaptiveClip: 0, ...given };
}

/**
 * Validate raw options (after filling the algorithm's defaults); the error names every bad field
 * and what was expected.
 */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const parsed = trainConfigSchema.safeParse(withEvalDefault(withDpDefaults(withTextGraphDefaults(withFedAvgDefaults(withGraphDefaults(withAlgorithmDefaults(withIalsDefaults(withMfGraphDefaults(raw)))))))), { reportInput: true });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, parsed.error.issues);
  }
  return parsed.data;
}

export { ConfigError };

/**
 * The server optimiser of a run, built in this one place so the simulation and the coordinator
 * apply updates identically.
 */
export function serverOptimizerOf(c: TrainConfig): OptimizerConfig {
  return { kind: c.serverOptimizer, lr: c.serverLr, momentum: c.serverMomentum, ...(c.serverEps !== undefined ? { eps: c.serverEps } : {}) };
}


/** The recency weighting of a run (train/recency.ts), or undefined when it is off. */
export function recencyOf(c: TrainConfig): RecencyWeighting | undefined {
  return c.recencyWindow > 0 && c.recencyWeight > 1 ? { window: c.recencyWindow, weight: c.recencyWeight } : undefined;
}

export { clientOptimizerOf, effectiveBatch, effectiveLr };

/**
 * The largest weight an honest client can report under 'examples', from the plan alone: every
 * local epoch trains each of its users' positives at most once per item (plus the recency copies),
 * with its negatives (bce). The server caps claimed weights there (federated/bounds.ts). FedRecon
 * keeps 'examples' weighting (validation RMSE 0.940 vs 0.947 uniform, explicit ML-100K).
 */
export function planWeightCap(c: TrainConfig, nItems: number): number {
  const recency = recencyOf(c);
  const positives = nItems + (recency ? (recency.weight - 1) * Math.min(recency.window, nItems) : 0);
  const perPositive = c.feedback === 'explicit' || c.loss === 'bpr' ? 1 : 1 + c.negatives;
  const epochs = c.algorithm === 'fedrecon' ? c.localEpochs : 1;
  return c.usersPerClient * positives * perPositive * epochs;
}
