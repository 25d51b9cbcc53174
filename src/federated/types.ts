/**
 * Federated contracts. A Strategy runs on the server: it plans each round and folds the clients'
 * updates into the global parameters. ClientWork runs on a device (in-process, in a worker, in a
 * browser): it receives the global parameters and returns an update. Only `GlobalUpdate` can be
 * sent: it is built from global tables alone, so a local (user) table has no way onto the wire.
 */
import type { GlobalParams, LocalParams, ModelConfig } from '../models/types.js';
import type { LossKind } from '../train/types.js';
import type { OptimizerConfig, OptimizerState } from '../optim/types.js';
import type { RecencyWeighting } from '../train/recency.js';
import type { DpClientPlan } from '../privacy/dp-fedavg.js';

/** What the server tells a client to do in a round. */
export interface RoundPlan {
  readonly round: number;
  readonly model: ModelConfig;
  readonly loss: LossKind;
  readonly localEpochs: number;
  readonly batch: number;
  readonly negatives: number;
  readonly optimizer: OptimizerConfig;
  /** Weight of each user's latest train interactions (train/recency.ts); absent: all count once. */
  readonly recency?: RecencyWeighting;
  /** Seed for this round's client-side randomness (each client derives its own stream). */
  readonly seed: number;
  /** Distributed DP (privacy/dp-fedavg.ts): the device clips and noises its update itself. */
  readonly dp?: DpClientPlan;
}

/**
 * A client's contribution: deltas (new − old) of the global tables it changed.
 * Item-indexed tables carry only the rows in `rows` ([rows.length, cols] each); dense tables are whole.
 */
export interface GlobalUpdate {
  readonly round: number;
  /** Aggregation weight (number of training examples in the last local epoch). */
  readonly weight: number;
  /** Sorted item ids whose rows this update touches. */
  readonly rows: Int32Array;
  readonly itemTables: { readonly [name: string]: Float32Array };
  readonly denseTables: { readonly [name: string]: Float32Array };
  /** Mean training loss the client saw (reporting only). */
  readonly loss: number;
}

/** A client's private training data: its users (dense ids) and their train positives. */
export interface ClientData {
  readonly clientId: number;
  readonly users: Int32Array;
  /** Train positives per user, aligned with `users`. */
  readonly positives: readonly Int32Array[];
  /** Ratings aligned with positives (explicit feedback), else null. */
  readonly ratings: readonly (Float32Array | null)[];
  /** Recency rank of each train positive (0 = the user's latest; data/recency.ts), per user; null without timestamps. */
  readonly recency?: readonly (Int32Array | null)[];
  /** Items this client must never use as training negatives (held-out positives, evaluation negatives), per user. */
  readonly excluded: readonly Int32Array[];
}

/** What a stateful client keeps between rounds: its local tables, rows aligned with `users`. */
export interface ClientState {
  local: LocalParams;
}

export interface ClientResult {
  readonly update: GlobalUpdate;
  /** What the client keeps for its next round; null for stateless clients (FedRecon). */
  readonly state: ClientState | null;
}

export interface RoundSummary {
  readonly round: number;
  readonly clients: number;
  readonly loss: number;
  /** Why the round's aggregate was not applied (the model and server state kept as they were); absent when applied. */
  readonly refused?: string;
}

/** Server-side algorithm (FedAvg, FedRecon, graph aggregation, ...). */
export interface Strategy {
  readonly name: string;
  /** Start collecting updates for `round`. */
  beginRound(round: number): void;
  /** Fold one client update into the round's running aggregate (streaming: nothing kept per client). */
  accept(update: GlobalUpdate): void;
  /** Apply the round's aggregate to `global` in place. */
  endRound(global: GlobalParams): RoundSummary;
  /**
   * Optional, for a strategy whose server keeps state across rounds besides the model (a server
   * optimiser's Adam moments or momentum): a copy of that state after the last `endRound`. A
   * deployment checkpoints it with the model, atomically, and after a restart hands it back to
   * `restoreServerState` before the next round, so the rounds that follow equal an uninterrupted
   * run's. A strategy that implements one implements both.
   */
  serverState?(): OptimizerState;
  /** Continue from a state `serverState` returned; throws, changing nothing, when it does not fit. */
  restoreServerState?(state: OptimizerState): void;
}
