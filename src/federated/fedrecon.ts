/**
 * Federated Reconstruction (Singhal et al., "Federated Reconstruction: Partially Local Federated
 * Learning", NeurIPS 2021), as in TensorFlow Federated's matrix-factorisation tutorial.
 * Parameters split by scope: GLOBAL tables (items, dense layers) are aggregated by the server;
 * LOCAL tables (users) are rebuilt from scratch on the device whenever they are needed and are
 * never stored between rounds nor sent: clients are stateless.
 *
 * Round, on each sampled client (`runFedReconClient`):
 *  1. put its examples in a fresh random order and split them with the injectable split function
 *     (recon-split.ts) into reconstruction / post-reconstruction examples;
 *  2. initialise fresh local tables and, with every global table frozen, train them on the
 *     reconstruction examples with the reconstruction optimiser (own lr, epochs, max steps);
 *  3. with the local tables frozen, train the global tables on the post-reconstruction examples
 *     with the client optimiser (plan.optimizer, plan.localEpochs epochs, max steps);
 *  4. send the delta of the global item rows the post-reconstruction phase trained (and the dense
 *     tables); the local tables are dropped.
 * On the server (`FedRecon`):
 *  5. fold each update into a weighted running sum (weight: post-reconstruction examples trained,
 *     or 1 per client);
 *  6. average item rows over the clients that touched them (or all), dense tables over all
 *     clients, and apply the average through the server optimiser (SGD with lr and momentum, or Adam).
 * A user the server never trained on (evaluation users, a new user of a product) runs step 2
 * alone (`reconstructLocal`) and then scores with its reconstructed local tables.
 * Implicit feedback draws fresh training negatives every epoch from the client's own sampler.
 */
import { Rng } from '../math/rng.js';
import { gatherRows, RowSparseGrads } from '../models/params.js';
import type { GlobalParams, LocalParams, RecModel, Scope } from '../models/types.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import { buildEpochExamples, type NegativeSource, type UserPositives } from '../train/examples.js';
import { fitEpoch, tablesOf } from '../train/fit.js';
import type { ExampleSet } from '../train/types.js';
import { FedAvg } from './fedavg.js';
import { compactExamples } from './client-work.js';
import { compactModel, deltaOf, freshLocal, toCompact, uniqueSorted } from './compact.js';
import type { ReconSplitFn } from './recon-split.js';
import type { ClientData, ClientResult, GlobalUpdate, RoundPlan } from './types.js';
import type { ParamInfo } from '../models/types.js';

/** One training phase: its optimiser, passes over its data, and a cap on minibatch steps. */
export interface PhaseOptions {
  readonly optimizer: OptimizerConfig;
  readonly epochs: number;
  /** Most minibatch steps over all epochs of the phase; 0 means no cap. */
  readonly stepsMax: number;
}

/** What FedRecon adds to a round plan (the post-reconstruction phase uses the plan's optimiser and local epochs). */
export interface ReconPlan {
  readonly reconstruction: PhaseOptions;
  readonly postReconstructionStepsMax: number;
  readonly split: ReconSplitFn;
}

/** The plan fields reconstruction needs (a new user's device has only these and the global tables). */
export type ReconstructionPlan = Pick<RoundPlan, 'model' | 'loss' | 'batch' | 'negatives'>;

/** Steps 1–4 of the round on one client; returns the update of global rows and no state. */
export function runFedReconClient(
  plan: RoundPlan,
  recon: ReconPlan,
  global: GlobalParams,
  data: ClientData,
  sampler: NegativeSource | null,
): ClientResult {
  const rng = Rng.derive(plan.seed, 'fedrecon-client', data.clientId);
  const reconUsers: UserPositives[] = [];
  const postUsers: UserPositives[] = [];
  data.positives.forEach((items, k) => {
    const order = rng.shuffle(Int32Array.from({ length: items.length }, (_, j) => j));
    const split = recon.split(items.length);
    reconUsers.push(examplesAt(k, items, data.ratings[k], order, split.reconstruction));
    postUsers.push(examplesAt(k, items, data.ratings[k], order, split.postReconstruction));
  });
  const reconEpochs = phaseEpochs(reconUsers, recon.reconstruction.epochs, recon.reconstruction.stepsMax, plan, sampler, rng);
  const postEpochs = phaseEpochs(postUsers, plan.localEpochs, recon.postReconstructionStepsMax, plan, sampler, rng);
  const postRows = uniqueSorted(exampleItems(postEpochs));
  const rows = uniqueSorted([...exampleItems(reconEpochs), postRows]);
  const local = freshLocal(plan.model, data.users.length, rng);
  const compact = compactModel(plan.model, global, local, data.users.length, rows);
  const { model } = compact;
  trainPhase(model, reconEpochs, rows, plan, recon.reconstruction.optimizer, namesOf(model.info, 'local'));
  const loss = trainPhase(model, postEpochs, rows, plan, plan.optimizer, namesOf(model.info, 'global'));
  const weight = postEpochs.reduce((n, ex) => n + ex.length, 0);
  return { update: restrictRows(deltaOf(compact, plan.round, weight, loss), postRows), state: null };
}

/**
 * Step 2 alone: fresh local tables for the users of `positives` (local indices 0..nUsers-1),
 * trained with the global tables frozen. `global` is read, never written.
 */
export function reconstructLocal(
  plan: ReconstructionPlan,
  reconstruction: PhaseOptions,
  global: GlobalParams,
  positives: readonly UserPositives[],
  sampler: NegativeSource | null,
  rng: Rng,
): LocalParams {
  const epochs = phaseEpochs(positives, reconstruction.epochs, reconstruction.stepsMax, plan, sampler, rng);
  const rows = uniqueSorted(exampleItems(epochs));
  const local = freshLocal(plan.model, positives.length, rng);
  const { model } = compactModel(plan.model, global, local, positives.length, rows);
  trainPhase(model, epochs, rows, plan, reconstruction.optimizer, namesOf(model.info, 'local'));
  return model.params.local;
}

/**
 * Trains only the `trainable` tables of a compact model over `epochs` (example sets in global item
 * ids, remapped onto `rows`); the other tables are read, never written. Returns the mean loss of
 * the last epoch (0 when there was nothing to train).
 */
export function trainPhase(
  model: RecModel,
  epochs: readonly ExampleSet[],
  rows: Int32Array,
  plan: Pick<RoundPlan, 'loss' | 'batch'>,
  optimizer: OptimizerConfig,
  trainable: readonly string[],
): number {
  const grads = new RowSparseGrads(model.info);
  const opt = createOptimizer(optimizer);
  const tables = tablesOf(model);
  let loss = 0;
  for (const ex of epochs) {
    if (ex.length === 0) continue;
    loss = fitEpoch(model, compactExamples(ex, rows), plan.loss, plan.batch, grads, opt, tables, trainable);
  }
  return loss;
}

/** Names of a model's tables of one scope. */
export function namesOf(info: readonly ParamInfo[], scope: Scope): string[] {
  return info.filter((p) => p.scope === scope).map((p) => p.name);
}

/**
 * The same update restricted to the item rows `keep` (sorted, a subset of `update.rows`): rows a
 * client loaded only to reconstruct carry a zero delta and are not sent.
 */
export function restrictRows(update: GlobalUpdate, keep: Int32Array): GlobalUpdate {
  if (keep.length === update.rows.length) return update;
  const positions = toCompact(keep, update.rows);
  const itemTables: Record<string, Float32Array> = {};
  for (const [name, table] of Object.entries(update.itemTables)) {
    itemTables[name] = gatherRows(table, table.length / update.rows.length, positions);
  }
  return { ...update, rows: keep, itemTables };
}

/**
 * Steps 5–6: the server side of FedRecon is FedAvg's streaming weighted averaging and server
 * optimiser (with optional uniform client weighting); only the clients' work differs.
 */
export class FedRecon extends FedAvg {
  override readonly name = 'fedrecon';
}

/** The examples at `positions` of a user's examples taken in `order`, as user `user`. */
function examplesAt(user: number, items: Int32Array, ratings: Float32Array | null, order: Int32Array, positions: Int32Array): UserPositives {
  return {
    user,
    items: Int32Array.from(positions, (p) => items[order[p]]),
    ratings: ratings ? Float32Array.from(positions, (p) => ratings[order[p]]) : null,
  };
}

/** `epochs` fresh example sets (new shuffle and negatives each), cut to at most `stepsMax` minibatches in total. */
function phaseEpochs(
  positives: readonly UserPositives[],
  epochs: number,
  stepsMax: number,
  plan: Pick<RoundPlan, 'loss' | 'batch' | 'negatives'>,
  sampler: NegativeSource | null,
  rng: Rng,
): ExampleSet[] {
  const out: ExampleSet[] = [];
  let room = stepsMax > 0 ? stepsMax * plan.batch : Infinity;
  for (let e = 0; e < epochs && room > 0; e++) {
    const ex = buildEpochExamples(positives, sampler, plan.loss, plan.negatives, rng);
    const kept = ex.length <= room ? ex : headOf(ex, room);
    room -= Math.ceil(kept.length / plan.batch) * plan.batch;
    out.push(kept);
  }
  return out;
}

function headOf(ex: ExampleSet, n: number): ExampleSet {
  return {
    users: ex.users.subarray(0, n),
    items: ex.items.subarray(0, n),
    labels: ex.labels.subarray(0, n),
    negatives: ex.negatives ? ex.negatives.subarray(0, n) : null,
    length: n,
  };
}

function exampleItems(epochs: readonly ExampleSet[]): Int32Array[] {
  return epochs.flatMap((ex) => (ex.negatives ? [ex.items, ex.negatives] : [ex.items]));
}
