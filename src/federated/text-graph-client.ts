/**
 * Client work of UFGraphFR (Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044; on GPFedRec,
 * Zhang et al., KDD 2024) for one client holding one or more users. One round on a device:
 *  1. sample training negatives once for the round (renewed every round, from the client's own
 *     data only: never its held-out items or evaluation negatives); with the plan's recency
 *     weighting (train/recency.ts), each user's latest positives count several times, each copy
 *     with its own negatives;
 *  2. per user, gather the personalised rows R_u = θ + Δ_u of the items it will touch (what the
 *     server sent), as the local item table Q_u and as the λ-term target;
 *  3. train `localEpochs` passes of the text-graph model: joint layer W_u, b_u (kept between rounds),
 *     Q_u and the MLP head, BCE + λ·mean‖Q_u − R_u‖² (with the recent-items term, e_u also reads
 *     the rows of the user's latest positives);
 *  4. upload per user vec(W_u − W_init), the trained part of its joint layer (plus Laplace(0, dpLaplace) noise per entry when asked: local DP)
 *     and its trained rows; plus FedAvg's deltas of item rows and head (the only upload when
 *     `uploadUsers` is off, i.e. under FedAvg).
 */
import { Rng } from '../math/rng.js';
import { RowSparseGrads } from '../models/params.js';
import type { GlobalParams, Grads, LocalParams } from '../models/types.js';
import { freshJoint, headParamInfo, TextGraphModel, recentItemsOf, type TextGraphConfig, type TextInputs, type RecentItems } from '../models/text-graph/model.js';
import { latestEntries } from '../data/recency.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import type { RecencyWeighting } from '../train/recency.js';
import { buildEpochExamples, type NegativeSource } from '../train/examples.js';
import { fitEpoch } from '../train/fit.js';
import { localPositives } from './client-work.js';
import { toCompact, uniqueSorted } from './compact.js';
import type { GraphUpdate, PersonalRows, UserUpload } from './personal-types.js';
import type { ClientData, ClientState } from './types.js';

export interface TextGraphPlan {
  readonly round: number;
  readonly seed: number;
  readonly model: TextGraphConfig;
  readonly localEpochs: number;
  readonly batch: number;
  readonly negatives: number;
  readonly optimizer: OptimizerConfig;
  /** Send vec(W_u) and item rows per user (graph aggregation). */
  readonly uploadUsers: boolean;
  /** Laplace noise scale on vec(W_u); 0 = none. */
  readonly dpLaplace: number;
  /** Recency weighting of the users' positives (train/recency.ts); absent = none. */
  readonly recency?: RecencyWeighting;
}

/** What the server sends a client: θ and the head, and each of its users' personal rows. */
export interface TextGraphDownload {
  readonly global: GlobalParams;
  /** Personal rows of the client's k-th user, or null (R_u = θ). */
  personal(k: number): PersonalRows | null;
}

export interface TextGraphClientResult {
  readonly update: GraphUpdate;
  readonly state: ClientState;
}

/** θ[rows] + Δ on the rows the personal table holds: [rows.length, d]. */
export function personalisedRows(theta: Float32Array, d: number, rows: Int32Array, personal: PersonalRows | null): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let k = 0; k < rows.length; k++) out.set(theta.subarray(rows[k] * d, (rows[k] + 1) * d), k * d);
  if (!personal) return out;
  let a = 0;
  let b = 0;
  while (a < rows.length && b < personal.rows.length) {
    if (rows[a] < personal.rows[b]) a++;
    else if (rows[a] > personal.rows[b]) b++;
    else {
      for (let f = 0; f < d; f++) out[a * d + f] += personal.delta[b * d + f];
      a++;
      b++;
    }
  }
  return out;
}

/**
 * The recent-items term's rows in the client's compact table: user k's `count` latest positives
 * (always among its rows `userRows[k]`, which start at compact row `groups[k]`).
 */
export function recentRows(data: ClientData, userRows: readonly Int32Array[], groups: Int32Array, count: number): RecentItems {
  return recentItemsOf(data.positives.map((p, k) => {
    const latest = latestEntries(p, data.recency?.[k] ?? null, count);
    return toCompact(latest, userRows[k]).map((r) => r + groups[k]);
  }));
}

/**
 * @param texts the client's users' text inputs (v_u and v_u·W_init), rows aligned with `data.users`.
 * @param options `batched: false` trains the head example by example (the reference path; the
 * default runs it as matrix products over the minibatch where the shape allows, models/text-graph/batched-head.ts).
 */
export function runTextGraphClientRound(
  plan: TextGraphPlan,
  download: TextGraphDownload,
  data: ClientData,
  texts: TextInputs,
  state: ClientState | null,
  sampler: NegativeSource,
  options: { readonly batched?: boolean } = {},
): TextGraphClientResult {
  const cfg = plan.model;
  const d = cfg.dim;
  const nUsers = data.users.length;
  // 1. this round's examples
  const rng = Rng.derive(plan.seed, 'client', data.clientId);
  const ex = buildEpochExamples(localPositives(data, plan.recency), sampler, 'bce', plan.negatives, rng);
  // 2. per-user rows, concatenated into one compact item table
  const byUser: number[][] = Array.from({ length: nUsers }, () => []);
  for (let k = 0; k < ex.length; k++) byUser[ex.users[k]].push(ex.items[k]);
  const userRows = byUser.map((items) => uniqueSorted([Int32Array.from(items)]));
  const groups = new Int32Array(nUsers + 1);
  userRows.forEach((r, k) => (groups[k + 1] = groups[k] + r.length));
  const nRows = groups[nUsers];
  const received = new Float32Array(nRows * d); // R rows, [nRows, d]
  userRows.forEach((r, k) => received.set(personalisedRows(download.global.item, d, r, download.personal(k)), groups[k] * d));
  const items = new Int32Array(ex.length); // compact row of each example
  const at = byUser.map((list, u) => toCompact(Int32Array.from(list), userRows[u]));
  const seen = new Int32Array(nUsers);
  for (let k = 0; k < ex.length; k++) {
    const u = ex.users[k];
    items[k] = groups[u] + at[u][seen[u]++];
  }
  const headInfo = headParamInfo(cfg);
  const global: Record<string, Float32Array> = { item: received.slice() };
  for (const p of headInfo) global[p.name] = download.global[p.name].slice();
  const local: LocalParams = state?.local ?? freshJoint(cfg, nUsers);
  const recent = cfg.recentItems ? recentRows(data, userRows, groups, cfg.recentItems) : null;
  const model = new TextGraphModel(cfg, nUsers, nRows, { global, local }, texts, { target: received }, recent, options);
  // 3. local training
  const grads = new RowSparseGrads(model.info);
  const optimizer = createOptimizer(plan.optimizer);
  const tables = { ...global, ...local };
  const trainable = model.info.map((p) => p.name);
  const compact = { ...ex, items };
  const hook = (g: Grads) => model.endBatch(g);
  let loss = 0;
  for (let e = 0; e < plan.localEpochs; e++) loss = fitEpoch(model, compact, 'bce', plan.batch, grads, optimizer, tables, trainable, hook);
  // 4. uploads
  const examplesOf = new Float64Array(nUsers);
  for (let k = 0; k < ex.length; k++) examplesOf[ex.users[k]]++;
  const users: UserUpload[] = [];
  if (plan.uploadUsers) {
    const noise = Rng.derive(plan.seed, 'dp-laplace', data.clientId);
    const width = cfg.textDim * d;
    for (let k = 0; k < nUsers; k++) {
      const weightVector = new Float32Array(width);
      model.weightVector(k, weightVector);
      if (plan.dpLaplace > 0) for (let t = 0; t < width; t++) weightVector[t] += noise.laplace(plan.dpLaplace);
      users.push({ user: data.users[k], weightVector, rows: userRows[k], itemRows: global.item.slice(groups[k] * d, groups[k + 1] * d), weight: examplesOf[k] });
    }
  }
  const fedavg = plan.uploadUsers ? null : averageItemDeltas(userRows, groups, global.item, received, examplesOf, d);
  const denseTables: Record<string, Float32Array> = {};
  for (const p of headInfo) {
    const before = download.global[p.name];
    denseTables[p.name] = global[p.name].map((v, k) => v - before[k]);
  }
  return {
    update: plan.uploadUsers
      ? { round: plan.round, weight: ex.length, rows: new Int32Array(0), itemTables: {}, denseTables, loss, users }
      : { round: plan.round, weight: ex.length, rows: fedavg!.rows, itemTables: { item: fedavg!.delta }, denseTables, loss, users },
    state: { local },
  };
}

/** FedAvg view of the client's item rows: per item, the example-weighted mean of its users' deltas. */
function averageItemDeltas(userRows: Int32Array[], groups: Int32Array, now: Float32Array, before: Float32Array, weights: Float64Array, d: number): { rows: Int32Array; delta: Float32Array } {
  const rows = uniqueSorted(userRows);
  const delta = new Float32Array(rows.length * d);
  const total = new Float64Array(rows.length);
  userRows.forEach((r, k) => {
    const at = toCompact(r, rows);
    for (let j = 0; j < r.length; j++) {
      const src = (groups[k] + j) * d;
      const dst = at[j] * d;
      total[at[j]] += weights[k];
      for (let f = 0; f < d; f++) delta[dst + f] += weights[k] * (now[src + f] - before[src + f]);
    }
  });
  for (let j = 0; j < rows.length; j++) if (total[j] > 0) for (let f = 0; f < d; f++) delta[j * d + f] /= total[j];
  return { rows, delta };
}
