/**
 * Server strategies by name, for the coordinator: every registered algorithm
 * (src/algorithms/registry.ts) serves under its name, its server side built by the same
 * `serverContextOf` the simulation uses. `registerStrategy` adds a strategy that is not (yet) an
 * Algorithm module (graph aggregation, federated LightGCN/NCL: src/algorithms/graph.ts,
 * lightgcn.ts); its client work registers under the same name in client/works.ts.
 */
import type { GlobalUpdate, Strategy } from '../federated/types.js';
import type { GlobalParams, ParamInfo } from '../models/types.js';
import { ConfigError, type TrainConfig } from '../runtime/config.js';
import { ALGORITHMS } from '../algorithms/registry.js';
import { serverContextOf } from '../algorithms/context.js';

export interface StrategyContext {
  /** Global tables only. */
  readonly info: readonly ParamInfo[];
  readonly nItems: number;
  readonly training: TrainConfig;
}

export interface StrategyEntry {
  /** Name of the client work clients run for this strategy. */
  readonly clientWork: string;
  create(ctx: StrategyContext): Strategy;
  /** Extra plan fields this strategy's client work reads (e.g. FedRecon's reconstruction epochs). */
  planExtras?(training: TrainConfig): Readonly<Record<string, unknown>>;
  /**
   * The model this strategy serves when it is not one of models/registry.ts (text-graph, LightGCN,
   * NCL: src/algorithms/); absent: the coordinator builds `training.model` from the registry.
   */
  model?(training: TrainConfig, nItems: number): ServedModel;
  /**
   * Checks an update beyond the generic validation (server/validate.ts) and maps it to what the
   * strategy folds, knowing which client sent it (graph aggregation: the client's users to their
   * server-side user ids); throws `InvalidUpdate`. Called on submission and on reload after a restart.
   */
  admit?(update: GlobalUpdate, clientId: number, ctx: StrategyContext): GlobalUpdate;
}

/** A model served by a strategy's own entry (StrategyEntry.model). */
export interface ServedModel {
  /** Every table, global and local (local ones never leave the devices). */
  readonly info: readonly ParamInfo[];
  /** The plan's `model` field. */
  readonly plan: { readonly kind: string; readonly dim: number };
  /** The initial global tables, exactly as the simulation starts them. */
  init(): GlobalParams;
  /** Largest update body in bytes when `coordinator.maxUpdateBytes` is not set. */
  readonly maxUpdateBytes?: number;
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

/** Models the coordinator builds from models/registry.ts for an entry without its own `model`. */
const REGISTRY_MODELS: readonly string[] = ['mf', 'neumf', 'ials'];

const registry = new Map<string, StrategyEntry>();

export function registerStrategy(name: string, entry: StrategyEntry): void {
  registry.set(name, entry);
}

export function strategyEntry(name: string): StrategyEntry {
  const entry = registry.get(name);
  if (!entry) throw new ConfigError(`training.algorithm '${name}' cannot be served by the coordinator; it serves: ${[...registry.keys()].join(', ')}`);
  return entry;
}

export function strategyNames(): string[] {
  return [...registry.keys()];
}

/**
 * The entry that serves `training`: one registered for the pair 'algorithm/model' (e.g.
 * 'fedavg/lightgcn', 'graph/text-graph'), else the algorithm's own entry for the registry models.
 * Any other combination is refused in one line naming what can be served.
 */
export function strategyFor(training: TrainConfig): StrategyEntry {
  const pair = registry.get(`${training.algorithm}/${training.model}`);
  if (pair) return pair;
  const plain = registry.get(training.algorithm);
  if (plain && REGISTRY_MODELS.includes(training.model)) return plain;
  const keys = [...registry.keys()];
  const served = [`${keys.filter((k) => !k.includes('/')).join(', ')} with model ${REGISTRY_MODELS.join(', ')}`, ...keys.filter((k) => k.includes('/')).map((k) => k.replace('/', ' with model '))];
  throw new ConfigError(`training: algorithm '${training.algorithm}' with model '${training.model}' cannot be deployed (fedrec serve); the coordinator serves: ${served.join('; ')}`);
}

for (const algorithm of ALGORITHMS) {
  registerStrategy(algorithm.name, {
    clientWork: algorithm.name,
    create: ({ info, nItems, training }) => algorithm.server(serverContextOf(training, info, nItems)),
    planExtras: (training) => algorithm.plan(training),
  });
}
