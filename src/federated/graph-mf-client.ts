/**
 * Client work of graph-aggregated MF (GPFedRec: Zhang et al., "GPFedRec: Graph-Guided Personalization
 * for Federated Recommendation", KDD 2024, with an MF client; the λ term as UFGraphFR, Wang, Hao, Xiao,
 * arXiv 2501.08044, defines it). The server's item table has rows [q_i, b_i] (d + 1 wide: factors
 * and bias), so one personal table R_u carries both. One round on a device:
 *  1. sample fresh training negatives for every local epoch (own data only, as FedAvg MF), with the
 *     plan's recency weighting;
 *  2. per user, gather R_u = θ + Δ_u on the rows it will touch (what the server sent) as its own
 *     local item table Q_u and as the λ-term target; with several users per client each has its own;
 *  3. train `localEpochs` passes of MF (models/mf: s = p_u·q_i + b_u + b_i + g) with the plan's loss
 *     (BCE with sampled negatives, or BPR) plus λ · mean‖Q_u − R_u‖², estimated per minibatch as the
 *     text-graph model does: λ · Σ_r (n_r / B)‖Q_r − R_r‖², n_r the batch's examples on row r;
 *  4. upload per user its trained rows of Q_u (no vec(W_u): the server's similarity reads the item
 *     update itself) and the global offset's delta; p_u and b_u stay on the device.
 */
import { Rng } from '../math/rng.js';
import { MatrixFactorization } from '../models/mf/mf.js';
import { RowSparseGrads } from '../models/params.js';
import type { GlobalParams, Grads, ModelConfig } from '../models/types.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import type { RecencyWeighting } from '../train/recency.js';
import { buildEpochExamples, type NegativeSource } from '../train/examples.js';
import { fitEpoch, tablesOf, type BatchHook } from '../train/fit.js';
import type { ExampleSet } from '../train/types.js';
import { localPositives } from './client-work.js';
import { freshLocal, toCompact, uniqueSorted } from './compact.js';
import type { GraphUpdate, PersonalRows, UserUpload } from './personal-types.js';
import { personalisedRows } from './text-graph-client.js';
import type { ClientData, ClientState } from './types.js';

export interface GraphMfPlan {
  readonly round: number;
  readonly seed: number;
  readonly dim: number;
  readonly loss: 'bce' | 'bpr';
  readonly localEpochs: number;
  readonly batch: number;
  readonly negatives: number;
  readonly optimizer: OptimizerConfig;
  readonly recency?: RecencyWeighting;
  /** Weight λ of mean‖Q_u − R_u‖². */
  readonly lambda: number;
}

/** θ ('item' [nItems, d + 1]: q_i then b_i; 'globalBias' [1]) and each of the client's users' personal rows. */
export interface GraphMfDownload {
  readonly global: GlobalParams;
  personal(k: number): PersonalRows | null;
}

/** The MF model config of a graph-MF plan. */
export function graphMfModel(dim: number): ModelConfig {
  return { kind: 'mf', dim };
}

/**
 * The λ term's gradient per minibatch: for each compact row r used n_r times among the batch's B
 * examples (positives and negatives), 2λ(n_r / B)(Q_r − R_r) on its factors and bias; returns the
 * batch's mean term λ·Σ_r (n_r / B)‖Q_r − R_r‖². Batches are taken in order, `batch` examples each.
 */
export function proximity(lambda: number, examples: ExampleSet, batch: number, q: Float32Array, b: Float32Array, target: Float32Array, d: number): BatchHook {
  const uses = new Int32Array(b.length);
  const touched: number[] = [];
  let start = 0;
  const count = (row: number) => {
    if (uses[row]++ === 0) touched.push(row);
  };
  return (grads: Grads) => {
    const end = Math.min(examples.length, start + batch);
    for (let k = start; k < end; k++) {
      count(examples.items[k]);
      if (examples.negatives) count(examples.negatives[k]);
    }
    const scale = lambda / (end - start);
    start = end;
    const gq = grads.values.itemEmb;
    const gb = grads.values.itemBias;
    let value = 0;
    for (const row of touched) {
      const w = scale * uses[row];
      uses[row] = 0;
      const t = row * (d + 1);
      for (let f = 0; f < d; f++) {
        const diff = q[row * d + f] - target[t + f];
        value += w * diff * diff;
        gq[row * d + f] += 2 * w * diff;
      }
      const diff = b[row] - target[t + d];
      value += w * diff * diff;
      gb[row] += 2 * w * diff;
      grads.touch('itemEmb', row);
      grads.touch('itemBias', row);
    }
    touched.length = 0;
    return value;
  };
}

/** The items of user k's examples, in example order. */
function byUserOf(users: Int32Array, items: Int32Array, k: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < items.length; j++) if (users[j] === k) out.push(items[j]);
  return out;
}

export function runGraphMfClientRound(plan: GraphMfPlan, download: GraphMfDownload, data: ClientData, state: ClientState | null, sampler: NegativeSource): { update: GraphUpdate; state: ClientState } {
  const d = plan.dim;
  const w = d + 1;
  const nUsers = data.users.length;
  // 1. every epoch's examples (fresh negatives), as FedAvg MF's client
  const rng = Rng.derive(plan.seed, 'client', data.clientId);
  const positives = localPositives(data, plan.recency);
  const epochs: ExampleSet[] = [];
  for (let e = 0; e < plan.localEpochs; e++) epochs.push(buildEpochExamples(positives, sampler, plan.loss, plan.negatives, rng));
  // 2. each user's rows, concatenated into one compact table (user k's rows start at groups[k])
  const byUser: number[][] = Array.from({ length: nUsers }, () => []);
  for (const ex of epochs) {
    for (let k = 0; k < ex.length; k++) {
      byUser[ex.users[k]].push(ex.items[k]);
      if (ex.negatives) byUser[ex.users[k]].push(ex.negatives[k]);
    }
  }
  const userRows = byUser.map((items) => uniqueSorted([Int32Array.from(items)]));
  const groups = new Int32Array(nUsers + 1);
  userRows.forEach((r, k) => (groups[k + 1] = groups[k] + r.length));
  const nRows = groups[nUsers];
  const received = new Float32Array(nRows * w); // R_u rows [nRows, d + 1]
  userRows.forEach((r, k) => received.set(personalisedRows(download.global.item, w, r, download.personal(k)), groups[k] * w));
  const compactOf = (users: Int32Array, items: Int32Array) => {
    const at = userRows.map((r, k) => toCompact(Int32Array.from(byUserOf(users, items, k)), r));
    const seen = new Int32Array(nUsers);
    const out = new Int32Array(items.length);
    for (let k = 0; k < items.length; k++) out[k] = groups[users[k]] + at[users[k]][seen[users[k]]++];
    return out;
  };
  const compactEpochs = epochs.map((ex) => ({ ...ex, items: compactOf(ex.users, ex.items), negatives: ex.negatives ? compactOf(ex.users, ex.negatives) : null }));
  const itemEmb = new Float32Array(nRows * d);
  const itemBias = new Float32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    itemEmb.set(received.subarray(r * w, r * w + d), r * d);
    itemBias[r] = received[r * w + d];
  }
  const globalBias = download.global.globalBias.slice();
  const config = graphMfModel(d);
  const local = state?.local ?? freshLocal(config, nUsers, Rng.derive(plan.seed, 'init-local', data.clientId));
  // 3. local training
  const model = new MatrixFactorization(config, nUsers, nRows, { global: { itemEmb, itemBias, globalBias }, local });
  const grads = new RowSparseGrads(model.info);
  const optimizer = createOptimizer(plan.optimizer);
  const tables = tablesOf(model);
  const trainable = model.info.map((p) => p.name);
  let loss = 0;
  for (const ex of compactEpochs) {
    const hook = plan.lambda > 0 ? proximity(plan.lambda, ex, plan.batch, itemEmb, itemBias, received, d) : undefined;
    loss = fitEpoch(model, ex, plan.loss, plan.batch, grads, optimizer, tables, trainable, hook);
  }
  // 4. uploads: each user's trained rows [q_i, b_i]
  const last = epochs[epochs.length - 1];
  const examplesOf = new Float64Array(nUsers);
  if (last) for (let k = 0; k < last.length; k++) examplesOf[last.users[k]]++;
  const users: UserUpload[] = userRows.map((rows, k) => {
    const itemRows = new Float32Array(rows.length * w);
    for (let j = 0; j < rows.length; j++) {
      const r = groups[k] + j;
      itemRows.set(itemEmb.subarray(r * d, (r + 1) * d), j * w);
      itemRows[j * w + d] = itemBias[r];
    }
    return { user: data.users[k], weightVector: new Float32Array(0), rows, itemRows, weight: examplesOf[k] };
  });
  const denseTables = { globalBias: Float32Array.of(globalBias[0] - download.global.globalBias[0]) };
  return {
    update: { round: plan.round, weight: last ? last.length : 0, rows: new Int32Array(0), itemTables: {}, denseTables, loss, users },
    state: { local },
  };
}
