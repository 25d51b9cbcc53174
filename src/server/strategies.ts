/**
 * Server strategies by name. A strategy entry builds the streaming `Strategy` (beginRound / accept /
 * endRound) from the model's global tables and the training config, and names the client work
 * the clients must run (registered on the client side under the same name, client/works.ts).
 * A new algorithm (FedRecon, graph aggregation) plugs in with one `registerStrategy` call; the
 * coordinator does not change.
 */
import { strategyForRule } from '../federated/robust.js';
import { FedRecon } from '../federated/fedrecon.js';
import type { GlobalUpdate, Strategy } from '../federated/types.js';
import type { GlobalParams, ParamInfo } from '../models/types.js';
import { ConfigError, planWeightCap, serverOptimizerOf, type TrainConfig } from '../runtime/config.js';
import { fedReconPlanSchema } from '../wire/protocol.js';
import { IalsStrategy } from '../federated/ials.js';
import { ialsHyperOf } from '../runtime/ials-experiment.js';
import { ialsPlanSchema } from '../wire/ials-plan.js';

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

/**
 * The server side of a run as the simulation builds it: server optimiser, row averaging, bounded
 * influence (the server's weights, the clip norm) and the aggregation rule (federated/robust.ts).
 */
function serverOptionsOf(training: TrainConfig, nItems: number) {
  return {
    weightCap: planWeightCap(training, nItems),
    serverOptimizer: serverOptimizerOf(training),
    rowAveraging: training.rowAveraging,
    clientWeighting: training.clientWeighting,
    clipNorm: training.clipNorm,
    adaptiveClip: training.adaptiveClip,
    trimFraction: training.trimFraction,
  };
}

/**
 * FedAvg (federated/fedavg.ts) built exactly as the simulation builds it (runtime/experiment.ts):
 * the configured server optimiser (SGD with momentum, or Adam), whose state the coordinator
 * checkpoints with the model (`Strategy.serverState`).
 */
registerStrategy('fedavg', {
  clientWork: 'fedavg',
  create: ({ info, nItems, training }) => strategyForRule(training.aggregation, info, nItems, serverOptionsOf(training, nItems)),
});

/**
 * Federated Reconstruction (federated/fedrecon.ts): the server folds global-table deltas through
 * its server optimiser, exactly as the simulation (runtime/fedrecon-experiment.ts) builds it; the
 * plan carries the reconstruction settings under `fedrecon` (wire/protocol.ts `fedReconPlanSchema`);
 * clients run `runFedReconClient` statelessly (client/works.ts).
 */
registerStrategy('fedrecon', {
  clientWork: 'fedrecon',
  create: ({ info, nItems, training }) =>
    strategyForRule(training.aggregation, info, nItems, serverOptionsOf(training, nItems), () => new FedRecon(info, nItems, serverOptionsOf(training, nItems)), 'fedrecon'),
  planExtras: (training) => ({
    fedrecon: fedReconPlanSchema.parse({
      reconstruction: {
        optimizer: { kind: training.reconOptimizer, lr: training.reconLr },
        epochs: training.reconEpochs,
        stepsMax: training.reconStepsMax,
      },
      postReconstructionStepsMax: training.postReconStepsMax,
      split: training.reconSplit,
    }),
  }),
});

/**
 * Federated iALS (federated/ials.ts): devices solve their user factors in closed form and send
 * item-side statistics; the server takes the preconditioned item step, exactly as the simulation
 * (runtime/ials-experiment.ts) builds it. The plan carries the objective under `ials`.
 */
registerStrategy('ials', {
  clientWork: 'ials',
  create: ({ nItems, training }) => new IalsStrategy(nItems, training.dim, ialsHyperOf(training), training.serverLr),
  planExtras: (training) => ({ ials: ialsPlanSchema.parse(ialsHyperOf(training)) }),
});
