/**
 * The single list of models, found by name (as RecBole's `get_model`): each with its paper, its
 * own run-config options (zod, defaults declared here once; config/config.ts composes them into
 * the run config and `fedrec train` lists them), and whether the plan's `model` field alone builds
 * it. The wire's model kinds and the config's `model` choices are `MODEL_NAMES`.
 *
 * One scoring contract for every model: evaluation, on-device metrics and `fedrec recommend` read a
 * model only through `Scorer.scoreItems(user, items, out)` (eval/types.ts) — a user's scores for a
 * list of items. MF, NeuMF and iALS are `RecModel`s built by `createModel` from a `ModelConfig` (any
 * algorithm can serve them); LightGCN, NCL and text-graph have tables and scorers of their own, built
 * by their run recipes (recipes/graph-*.ts, config/graph-*.ts, text-graph-experiment.ts) and, deployed, by their
 * algorithm modules (src/algorithms/lightgcn.ts, graph.ts: `servedModel`, `scorer`).
 */
import { z } from 'zod';
import { IalsModel, ialsParamInfo } from './ials/ials.js';
import { MatrixFactorization, mfParamInfo } from './mf/mf.js';
import { NeuMF, neumfParamInfo } from './neumf/neumf.js';
import type { ModelConfig, ParamInfo, Params, RecModel } from './types.js';

const positiveInt = z.number().int().positive();

/** LightGCN (He et al., SIGIR 2020); RecBole-GNN names in brackets. */
const lightgcnOptions = z.object({
  gcnLayers: positiveInt.default(3), // [n_layers]
  regWeight: z.number().min(0).default(1e-4), // [reg_weight] L2 on the batch's layer-0 rows
});

/** NCL (Lin et al., WWW 2022): LightGCN's options and its contrastive terms. */
const nclOptions = lightgcnOptions.extend({
  sslTemp: z.number().positive().default(0.1), // [ssl_temp]
  sslReg: z.number().min(0).default(1e-7), // [ssl_reg]
  sslAlpha: z.number().min(0).default(1), // [alpha] weight of the item structural term
  protoReg: z.number().min(0).default(8e-8), // [proto_reg]
  hyperLayers: positiveInt.default(1), // [hyper_layers] structural contrast on layer 2k
  clusters: positiveInt.default(100), // [num_clusters]
  kmeansIterations: positiveInt.default(10),
  warmUp: z.number().int().min(0).default(20), // [warm_up_step] epochs / rounds without ProtoNCE
});

/** iALS (config/ials-defaults.ts): α₀ and ν of Rendle et al.'s objective; λ is `l2`. */
const ialsOptions = z.object({
  unobservedWeight: z.number().min(0).default(0.1),
  regExponent: z.number().min(0).default(1),
});

/** Text-aware graph model (UFGraphFR): the text encoder, the users' texts, and the score head. */
const textGraphOptions = z.object({
  encoder: z.enum(['use', 'transformers', 'hash']).default('use'),
  encoderModel: z.string().optional(),
  cacheDir: z.string().optional(),
  userText: z.string().optional(),
  textAblation: z.enum(['none', 'shuffle', 'random']).default('none'),
  lambda: z.number().min(0).default(0.1),
  recentItems: z.number().int().min(0).default(0),
  head: z.enum(['mlp', 'mlp+dot']).default('mlp+dot'),
});

export interface ModelEntry<S extends z.ZodRawShape = z.ZodRawShape> {
  /** The `--model` name, the plan's `model.kind`. */
  readonly name: string;
  readonly paper: string;
  /** What it is in a few words, for `fedrec train --help`. */
  readonly summary: string;
  /** Its own run-config fields with their defaults (the shared ones — dim, layers, l2 … — are config/config.ts's). */
  readonly options: z.ZodObject<S>;
  /** true: `createModel` builds it from the plan's `model` field, so any algorithm serves it. */
  readonly fromPlan: boolean;
  /** Where `fedrec train --help` lists its options (config/config-scope.ts groups). */
  readonly group?: string;
}

export const MODELS = [
  { name: 'mf', paper: 'Koren et al., Computer 2009', summary: 'matrix factorisation', options: z.object({}), fromPlan: true },
  { name: 'neumf', paper: 'He et al., WWW 2017', summary: 'neural collaborative filtering (GMF + MLP)', options: z.object({}), fromPlan: true },
  { name: 'lightgcn', paper: 'He et al., SIGIR 2020', summary: 'graph convolution over the user–item graph', options: lightgcnOptions, fromPlan: false, group: 'lightgcn/ncl' },
  { name: 'ncl', paper: 'Lin et al., WWW 2022', summary: 'LightGCN with neighbourhood-enriched contrastive terms', options: nclOptions, fromPlan: false, group: 'lightgcn/ncl' },
  { name: 'text-graph', paper: 'Wang et al., J. Supercomputing 2026 (UFGraphFR)', summary: 'text-aware user embeddings over item tables', options: textGraphOptions, fromPlan: false, group: 'text-graph' },
  { name: 'ials', paper: 'Hu et al., ICDM 2008; Rendle et al., RecSys 2022', summary: 'implicit ALS; --mode central or --algorithm ials', options: ialsOptions, fromPlan: true, group: 'ials' },
] as const satisfies readonly ModelEntry[];

export type ModelName = (typeof MODELS)[number]['name'];

/** Every model's name, in registry order: the config's `model` choices and the wire's model kinds. */
export const MODEL_NAMES = MODELS.map((m) => m.name) as [ModelName, ...ModelName[]];

/** The models any algorithm serves (built from the plan's `model` field). */
export const MODELS_OF_ANY_ALGORITHM: readonly string[] = MODELS.filter((m) => m.fromPlan).map((m) => m.name);

export function findModel(name: string): ModelEntry | undefined {
  return (MODELS as readonly ModelEntry[]).find((m) => m.name === name);
}

/** The models whose own options include `field` (LightGCN's are NCL's too). */
export function modelsWithOption(field: string): string[] {
  return (MODELS as readonly ModelEntry[]).filter((m) => field in m.options.shape).map((m) => m.name);
}

/** Each model's own options, by name (config/config.ts composes them). */
export const MODEL_OPTIONS = { lightgcn: lightgcnOptions, ncl: nclOptions, ials: ialsOptions, 'text-graph': textGraphOptions } as const;

export function createModel(config: ModelConfig, nUsers: number, nItems: number, params: Params | { seed: number }): RecModel {
  switch (config.kind) {
    case 'mf':
      return new MatrixFactorization(config, nUsers, nItems, params);
    case 'neumf':
      return new NeuMF(config, nUsers, nItems, params);
    case 'ials':
      return new IalsModel(config, nUsers, nItems, params);
  }
}

/** The parameter tables of a model of this config and size, without allocating them. */
export function modelParamInfo(config: ModelConfig, nUsers: number, nItems: number): ParamInfo[] {
  if (config.kind === 'ials') return ialsParamInfo(nUsers, nItems, config.dim);
  return config.kind === 'mf' ? mfParamInfo(nUsers, nItems, config.dim) : neumfParamInfo(nUsers, nItems, config);
}
