/**
 * Which configuration fields a run reads: every field of the run config has a scope (the runs it
 * applies to) and a group (where `fedrec train --help` lists it). Three things derive from this one
 * table, so they cannot disagree: the result document records only the fields that apply to its run
 * (`recordedConfig`), the CLI refuses a flag that does not apply (`--ssl-temp` on MF), and the help
 * shows each flag's effective default for the chosen model/algorithm/mode.
 * Adding a config field = one line here (a test fails until every schema field has one).
 */
import { effectiveBatch, effectiveLr, type TrainConfig } from './config.js';
import { ALGORITHMS, algorithmsWith, sayNames } from '../algorithms/registry.js';
import { MODELS, modelsWithOption, type ModelEntry } from '../models/registry.js';

/** The part of a config that decides which fields apply. */
export type RunShape = Pick<TrainConfig, 'model' | 'algorithm' | 'mode'> & Partial<Pick<TrainConfig, 'data' | 'encoder'>>;

export interface Scope {
  readonly applies: (c: RunShape) => boolean;
  /** In the user's words, e.g. "model ncl" or "mode federated". */
  readonly says: string;
}

export type FieldGroup = 'data' | 'model' | 'training' | 'federated' | 'evaluation' | 'lightgcn/ncl' | 'text-graph' | 'graph' | 'fedrecon' | 'ials' | 'privacy';

const always: Scope = { applies: () => true, says: 'every run' };
const models = (...m: string[]): Scope => ({ applies: (c) => m.includes(c.model), says: `model ${m.join(' or ')}` });
const notModels = (...m: string[]): Scope => ({ applies: (c) => !m.includes(c.model), says: `models other than ${m.join(' and ')}` });
const federated: Scope = { applies: (c) => c.mode === 'federated', says: 'mode federated' };
const central: Scope = { applies: (c) => c.mode === 'central', says: 'mode central' };
const algorithm = (a: string): Scope => ({ applies: (c) => c.algorithm === a, says: `algorithm ${a}` });
const both = (x: Scope, y: Scope): Scope => ({ applies: (c) => x.applies(c) && y.applies(c), says: `${x.says} with ${y.says}` });
const unless = (x: Scope, y: Scope): Scope => ({ applies: (c) => x.applies(c) && !y.applies(c), says: `${x.says}, not ${y.says}` });
const synthetic: Scope = { applies: (c) => c.data === undefined, says: 'the built-in synthetic data (no --data)' };

const textGraph = models('text-graph');
const graphAggregation = both(textGraph, algorithm('graph'));
/** Graph aggregation with either model it trains (text-graph, or MF: GPFedRec's setting); vec(W_u)'s local DP is text-graph's alone. */
const anyGraphAggregation = both(models('text-graph', 'mf'), algorithm('graph'));
const mfGraph = both(models('mf'), both(algorithm('graph'), federated));
const either = (x: Scope, y: Scope): Scope => ({ applies: (c) => x.applies(c) || y.applies(c), says: `${x.says}, or ${y.says}` });
const fedrecon = algorithm('fedrecon');
/** Runs whose server folds a (weighted) sum of updates: FedAvg and FedRecon (bounds, robust rules). */
const SUMS = algorithmsWith('sumsUpdates');
const sumServer: Scope = { applies: (c) => c.mode === 'federated' && SUMS.includes(c.algorithm), says: `mode federated with algorithm ${sayNames(SUMS)}` };
const dp: Scope = {
  applies: (c) => c.mode === 'federated' && ((SUMS.includes(c.algorithm) && ['mf', 'neumf'].includes(c.model)) || (c.algorithm === 'fedavg' && ['lightgcn', 'ncl'].includes(c.model))),
  says: `mode federated, algorithm ${sayNames(SUMS)} with model mf or neumf, or algorithm fedavg with model lightgcn or ncl`,
};
const WORKERS = algorithmsWith('workers');
const threaded: Scope = { applies: (c) => c.mode === 'federated' && WORKERS.includes(c.algorithm), says: `mode federated with algorithm ${sayNames(WORKERS)}` };

/** Each registered model's own fields (src/models/registry.ts): they apply to the models whose options hold them. */
const MODEL_FIELD_SCOPES: Record<string, readonly [Scope, FieldGroup]> = Object.fromEntries(
  (MODELS as readonly ModelEntry[]).flatMap((m) => Object.keys(m.options.shape).map((field) => [field, [models(...modelsWithOption(field)), m.group as FieldGroup]])),
);

/** Each registered algorithm's own fields (src/algorithms/<name>.ts): they apply to its runs, listed under its name. */
const ALGORITHM_FIELD_SCOPES: Record<string, readonly [Scope, FieldGroup]> = Object.fromEntries(
  ALGORITHMS.flatMap((a) => Object.keys(a.options.shape).map((field) => [field, [algorithm(a.name), a.name as FieldGroup]])),
);

/** Every field of `trainConfigSchema`: its scope and help group. */
export const FIELD_SCOPES: Readonly<Record<string, readonly [Scope, FieldGroup]>> = {
  data: [always, 'data'],
  format: [always, 'data'],
  columns: [always, 'data'],
  sep: [always, 'data'],
  ratingThreshold: [always, 'data'],
  syntheticUsers: [synthetic, 'data'],
  syntheticItems: [synthetic, 'data'],
  syntheticInteractions: [synthetic, 'data'],
  split: [unless(always, fedrecon), 'data'],
  splitFiles: [always, 'data'],
  model: [always, 'model'],
  dim: [always, 'model'],
  layers: [models('neumf', 'text-graph'), 'model'],
  ...MODEL_FIELD_SCOPES,
  // NCL's structural contrast runs centrally only: a device's one-user ego-graph makes it degenerate, so federated NCL has none (docs/graph.md)
  sslReg: [both(models('ncl'), central), 'lightgcn/ncl'],
  sslAlpha: [both(models('ncl'), central), 'lightgcn/ncl'],
  hyperLayers: [both(models('ncl'), central), 'lightgcn/ncl'],
  lambda: [either(textGraph, mfGraph), 'graph'], // the pull λ·‖Q_u − R_u‖² towards the personal table
  mode: [always, 'training'],
  algorithm: [always, 'training'],
  encoderModel: [{ applies: (c) => c.model === 'text-graph' && c.encoder === 'transformers', says: 'model text-graph with --encoder transformers' }, 'text-graph'],
  testHistory: [always, 'evaluation'],
  feedback: [fedrecon, 'fedrecon'],
  loss: [models('mf', 'neumf'), 'training'],
  download: [federated, 'federated'],
  dpClip: [dp, 'privacy'],
  dpNoiseMultiplier: [dp, 'privacy'],
  dpMode: [dp, 'privacy'],
  dpDelta: [dp, 'privacy'],
  dpQuantile: [dp, 'privacy'],
  dpClipLr: [dp, 'privacy'],
  dpCountNoise: [dp, 'privacy'],
  dpNoise: [dp, 'privacy'],
  rounds: [federated, 'federated'],
  epochs: [central, 'training'],
  clientsPerRound: [federated, 'federated'],
  fraction: [federated, 'federated'],
  usersPerClient: [unless(federated, fedrecon), 'federated'],
  workers: [both(threaded, models('mf', 'neumf')), 'federated'],
  localEpochs: [federated, 'federated'],
  batch: [always, 'training'],
  lr: [always, 'training'],
  optimizer: [always, 'training'],
  l2: [always, 'training'],
  serverLr: [federated, 'federated'],
  serverMomentum: [federated, 'federated'],
  serverOptimizer: [federated, 'federated'],
  serverEps: [federated, 'federated'],
  rowAveraging: [unless(federated, algorithm('graph')), 'federated'],
  negatives: [notModels('lightgcn', 'ncl', 'ials'), 'training'],
  recencyWindow: [unless(models('mf', 'neumf', 'text-graph', 'ials'), fedrecon), 'training'],
  recencyWeight: [unless(models('mf', 'neumf', 'text-graph', 'ials'), fedrecon), 'training'],
  eval: [always, 'evaluation'],
  k: [always, 'evaluation'],
  evalEvery: [always, 'evaluation'],
  select: [unless(always, fedrecon), 'evaluation'],
  seed: [always, 'training'],
  ...ALGORITHM_FIELD_SCOPES,
  // graph aggregation's fields (algorithms/graph.ts): for the models it trains; vec(W_u)'s noise for text-graph only
  neighbors: [anyGraphAggregation, 'graph'],
  graphLayers: [anyGraphAggregation, 'graph'],
  norm: [anyGraphAggregation, 'graph'],
  selfLoop: [anyGraphAggregation, 'graph'],
  dpLaplace: [graphAggregation, 'text-graph'],
  sketchDim: [anyGraphAggregation, 'graph'],
  personalRows: [anyGraphAggregation, 'graph'],
  clientWeighting: [federated, 'federated'],
  clipNorm: [sumServer, 'federated'],
  adaptiveClip: [sumServer, 'federated'],
  aggregation: [sumServer, 'federated'],
  trimFraction: [sumServer, 'federated'],
  rowShare: [sumServer, 'federated'],
  rowSpread: [sumServer, 'federated'],
  centerItems: [both(sumServer, models('mf')), 'federated'],
};

/** The scope of a field; fields missing from the table apply to every run. */
export function scopeOf(field: string): Scope {
  return FIELD_SCOPES[field]?.[0] ?? always;
}

export function groupOf(field: string): FieldGroup | undefined {
  return FIELD_SCOPES[field]?.[1];
}

export function appliesTo(field: string, c: RunShape): boolean {
  return scopeOf(field).applies(c);
}

/**
 * The config a result document records: the fields that apply to this run, with the effective
 * learning rate and batch. Read back by `fedrec train --config`, it repeats the run exactly.
 */
export function recordedConfig(c: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(c)) {
    if (value !== undefined && appliesTo(field, c)) out[field] = value;
  }
  return { ...out, lr: effectiveLr(c), batch: effectiveBatch(c) };
}
