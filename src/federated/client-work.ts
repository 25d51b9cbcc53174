/**
 * FedAvg client work (McMahan et al., AISTATS 2017, as used for recommendation by FedMF / FedNCF).
 * One round on a device:
 *  1. sample fresh training negatives for every local epoch (from the client's own data only);
 *  2. build the compact model over the rows it will touch, from the global tables it received
 *     and its own local (user) tables, kept between rounds;
 *  3. train `localEpochs` passes with the plan's optimiser;
 *  4. return the delta of the touched global rows and dense layers, and its new local state.
 */
import { Rng } from '../math/rng.js';
import { NegativeSampler, type UserNegativeSampler } from '../data/negatives.js';
import { createOptimizer } from '../optim/registry.js';
import { RowSparseGrads } from '../models/params.js';
import type { GlobalParams, RecModel } from '../models/types.js';
import { buildEpochExamples, type NegativeSource, type UserPositives } from '../train/examples.js';
import { fitEpoch, tablesOf, type BatchHook } from '../train/fit.js';
import type { ExampleSet } from '../train/types.js';
import { repeatRecent, type RecencyWeighting } from '../train/recency.js';
import { compactModel, deltaOf, freshLocal, RowIndex, toCompact } from './compact.js';
import { mfSimdApplies, rngStateOf, trainMfClient, trainMfClientRound } from './mf-simd-client.js';
import type { ClientData, ClientResult, ClientState, RoundPlan } from './types.js';

/** Training negatives for a client's users (local indices), built from the client's own data only. */
export function clientNegativeSource(nItems: number, data: ClientData): NegativeSource {
  const samplers = data.positives.map((p, k) => NegativeSampler.forClient(nItems, p, data.excluded[k]));
  const source: NegativeSource = { nItems, sample: (k, count, rng, out, offset) => samplers[k].sample(count, rng, out, offset) };
  clientSamplers.set(source, { data, exclusions: samplers.map((s) => s.exclusion) });
  return source;
}

/**
 * The exclusion lists behind each source `clientNegativeSource` built, and the client it was built
 * for: the MF kernels draw the same negatives from them (`trainMfClientRound`).
 */
const clientSamplers = new WeakMap<NegativeSource, { readonly data: ClientData; readonly exclusions: readonly UserNegativeSampler['exclusion'][] }>();

/**
 * The client's positives with local user indices 0..users-1; with a recency weighting, each user's
 * latest positives (and their ratings) repeated (train/recency.ts).
 */
export function localPositives(data: ClientData, recency?: RecencyWeighting): UserPositives[] {
  return data.positives.map((items, k) => {
    const ranks = data.recency?.[k];
    const ratings = data.ratings[k];
    return { user: k, items: repeatRecent(items, ranks, recency), ratings: ratings && repeatRecent(ratings, ranks, recency) };
  });
}

/** Remap an example set's items (and BPR negatives) into compact row indices (sorted rows or their index). */
export function compactExamples(ex: ExampleSet, rows: Int32Array | RowIndex): ExampleSet {
  const remap = rows instanceof RowIndex ? (items: Int32Array) => rows.toCompact(items) : (items: Int32Array) => toCompact(items, rows);
  return { ...ex, items: remap(ex.items), negatives: ex.negatives ? remap(ex.negatives) : null };
}

/**
 * A term an algorithm adds to the client's local objective (FedProx's proximal term): built once
 * per round from the compact model as the client received it, then called for every minibatch to
 * add its gradient (and return its loss) before the optimiser step (train/fit.ts `BatchHook`).
 */
export type LocalTerm = (model: RecModel) => BatchHook;

/** How a client round runs its numbers: `simd: false` forces the generic JavaScript path. */
export interface ClientWorkOptions {
  readonly simd?: boolean;
  /** The update is used up before the next client round on this thread (algorithms/types.ts `EngineSwitches`). */
  readonly transientUpdate?: boolean;
  /** An extra term of the local objective; the round then runs the generic path. */
  readonly localTerm?: LocalTerm;
}

export function runClientRound(
  plan: RoundPlan,
  global: GlobalParams,
  data: ClientData,
  state: ClientState | null,
  sampler: NegativeSource,
  options: ClientWorkOptions = {},
): ClientResult & { readonly state: ClientState } {
  const simd = options.simd !== false && !options.localTerm && mfSimdApplies(plan);
  const own = clientSamplers.get(sampler);
  if (simd && own?.data === data) {
    // the whole round in the kernels, examples included (the same draws as below)
    const local = state?.local ?? freshLocal(plan.model, data.users.length, Rng.derive(plan.seed, 'init-local', data.clientId));
    const positives = localPositives(data, plan.recency).map((p) => p.items);
    const job = { positives, exclusions: own.exclusions, nItems: sampler.nItems, rngState: rngStateOf(plan.seed, 'client', data.clientId) };
    const d = trainMfClientRound(plan, global, local, job, options.transientUpdate === true);
    const update = { round: plan.round, weight: d.weight, rows: d.rows, itemTables: { itemEmb: d.itemEmb, itemBias: d.itemBias }, denseTables: { globalBias: d.globalBias }, loss: d.loss };
    return { update, state: { local } };
  }
  const rng = Rng.derive(plan.seed, 'client', data.clientId);
  const positives = localPositives(data, plan.recency);
  const epochs: ExampleSet[] = [];
  for (let e = 0; e < plan.localEpochs; e++) {
    epochs.push(buildEpochExamples(positives, sampler, plan.loss, plan.negatives, rng));
  }
  const index = new RowIndex(epochs.flatMap((ex) => (ex.negatives ? [ex.items, ex.negatives] : [ex.items])), sampler.nItems);
  const rows = index.rows;
  const local = state?.local ?? freshLocal(plan.model, data.users.length, Rng.derive(plan.seed, 'init-local', data.clientId));
  const weight = epochs.length > 0 ? epochs[epochs.length - 1].length : 0;
  const compactEpochs = epochs.map((ex) => compactExamples(ex, index));
  if (simd) {
    const d = trainMfClient(plan, global, local, rows, compactEpochs);
    const update = { round: plan.round, weight, rows, itemTables: { itemEmb: d.itemEmb, itemBias: d.itemBias }, denseTables: { globalBias: d.globalBias }, loss: d.loss };
    return { update, state: { local } };
  }
  const compact = compactModel(plan.model, global, local, data.users.length, rows);
  const { model } = compact;
  const grads = new RowSparseGrads(model.info);
  const optimizer = createOptimizer(plan.optimizer);
  const tables = tablesOf(model);
  const trainable = model.info.map((p) => p.name);
  const onBatch = options.localTerm?.(model);
  let loss = 0;
  for (const ex of compactEpochs) loss = fitEpoch(model, ex, plan.loss, plan.batch, grads, optimizer, tables, trainable, onBatch);
  return { update: deltaOf(compact, plan.round, weight, loss), state: { local: model.params.local } };
}
