/**
 * The coordinator's server side for a run config: a lookup into the algorithm registry
 * (src/algorithms/registry.ts `algorithmFor`), the server built by the same `serverContextOf` the
 * simulation uses. A strategy that sends each client tables of its own (graph aggregation's
 * personal rows) is a `PersonalisingStrategy`.
 */
import type { GlobalUpdate, Strategy } from '../federated/types.js';
import type { ParamInfo } from '../models/types.js';
import { ConfigError, type TrainConfig } from '../config/config.js';
import { ALGORITHMS, algorithmFor } from '../algorithms/registry.js';
import { serverContextOf } from '../algorithms/context.js';
import type { AdmitContext, ServedModel } from '../algorithms/types.js';
import { MODELS_OF_ANY_ALGORITHM } from '../models/registry.js';

export type { ServedModel } from '../algorithms/types.js';
export type StrategyContext = AdmitContext;

/** What the coordinator serves for a run config, from its Algorithm module. */
export interface StrategyEntry {
  /** Name of the client work clients run (the module's name). */
  readonly clientWork: string;
  create(ctx: StrategyContext): Strategy;
  /** Extra plan fields the client work reads (e.g. FedRecon's reconstruction epochs). */
  planExtras(training: TrainConfig): Readonly<Record<string, unknown>>;
  /** The module's own served model (text-graph, LightGCN, NCL); absent: models/registry.ts builds `training.model`. */
  model?(training: TrainConfig, nItems: number): ServedModel;
  /** The module's checks and mapping of an update, knowing its sender (graph aggregation). */
  admit?(update: GlobalUpdate, clientId: number, ctx: StrategyContext): GlobalUpdate;
}

/**
 * A strategy that sends each client tables of its own besides the global model (graph
 * aggregation's personal rows, GET /v1/personal): the message for `clientId` after `version` rounds.
 */
export interface PersonalisingStrategy extends Strategy {
  personalMessage(clientId: number, version: number): Uint8Array;
}

export function isPersonalising(s: Strategy): s is PersonalisingStrategy {
  return typeof (s as Partial<PersonalisingStrategy>).personalMessage === 'function';
}

/** What the coordinator serves: each `--algorithm` with the models it trains ("fedavg with model mf, neumf, ials"). */
function servable(): string[] {
  return ALGORITHMS.map((a) => `${a.variantOf ?? a.name} with model ${(a.models ?? MODELS_OF_ANY_ALGORITHM).join(', ')}`);
}

/**
 * The entry that serves `training`: the Algorithm module for the pair (algorithm, model). A pair no
 * module trains is refused in one line naming what can be served.
 */
export function strategyFor(training: TrainConfig): StrategyEntry {
  const algorithm = algorithmFor(training.algorithm, training.model);
  if (!algorithm || !(algorithm.models ?? MODELS_OF_ANY_ALGORITHM).includes(training.model)) {
    throw new ConfigError(`training: algorithm '${training.algorithm}' with model '${training.model}' cannot be deployed (fedrec serve); the coordinator serves: ${servable().join('; ')}`);
  }
  const { servedModel, admit } = algorithm;
  return {
    clientWork: algorithm.name,
    create: ({ info, nItems, training: t }) => algorithm.server(serverContextOf(t, info as readonly ParamInfo[], nItems)),
    planExtras: (t) => algorithm.plan(t),
    ...(servedModel ? { model: (t: TrainConfig, nItems: number) => servedModel(t, nItems) } : {}),
    ...(admit ? { admit: (u: GlobalUpdate, clientId: number, ctx: StrategyContext) => admit(u, clientId, ctx) } : {}),
  };
}
