/**
 * Federated LightGCN / NCL client work (graph models: He et al. SIGIR 2020; Lin et al. WWW 2022;
 * round structure of FedAvg, McMahan et al. AISTATS 2017). One round on a device:
 *  1. sample one fresh negative per train positive for every local epoch (own data only);
 *  2. build the ego-graph: the client's user node(s) and the items they interacted with, normalised
 *     with ego-graph degrees; sampled negatives join as isolated item nodes; item rows come from the
 *     global item table the server sent, user rows from the client's own state;
 *  3. train: propagate on the ego-graph, score ū·e_i with ū the mean of the user's layer outputs and
 *     e_i the item's layer-0 row (an item's other neighbours are other clients' users, which never
 *     reach this client), BPR + L2; for NCL also ProtoNCE of the client's positive items against
 *     the item prototypes the server computed from the global item table. Left out: the user-side
 *     NCL terms (they contrast against all users' embeddings, which never reach a client) and the
 *     structural contrast (on a one-user ego-graph every item's layer-2 row is the same vector,
 *     the mean of the user's items, so the term degenerates);
 *  4. send the deltas of the item rows it holds (positives ∪ sampled negatives).
 * What leaves the client: `GlobalUpdate` = sorted item ids (its positives mixed with its sampled
 * negatives), the float32 deltas of those rows of the item table, the example count (weight) and
 * the mean loss. The user embedding, the ego-graph and the split of rows into positives and
 * negatives stay on the device.
 */
import { fillNormal } from '../math/kernels.js';
import { Rng } from '../math/rng.js';
import { gatherRows } from '../models/params.js';
import { GraphTrainer } from '../models/lightgcn/fit.js';
import { LightGcn } from '../models/lightgcn/model.js';
import { NclLoss, type NclLossOptions } from '../models/ncl/loss.js';
import type { Prototypes } from '../models/ncl/prototypes.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import { buildEpochExamples, type NegativeSource } from '../train/examples.js';
import type { ExampleSet } from '../train/types.js';
import { compactExamples, localPositives } from './client-work.js';
import { toCompact, uniqueSorted } from './compact.js';
import type { ClientData, ClientResult, ClientState } from './types.js';

/** Standard deviation of a new client's user rows. */
export const USER_INIT_STD = 0.05;

export interface GraphRoundPlan {
  readonly round: number;
  /** Seed for this round's client randomness (each client derives its own stream). */
  readonly seed: number;
  readonly dim: number;
  readonly layers: number;
  readonly reg: number;
  readonly localEpochs: number;
  readonly batch: number;
  readonly optimizer: OptimizerConfig;
  /** NCL's item-side terms and this round's server prototypes (null during warm-up); null for LightGCN. */
  readonly ncl: { readonly loss: Omit<NclLossOptions, 'userSide'>; readonly itemPrototypes: Prototypes | null } | null;
}

export function runGraphClientRound(
  plan: GraphRoundPlan,
  itemEmb: Float32Array,
  data: ClientData,
  state: ClientState | null,
  sampler: NegativeSource,
): ClientResult {
  const rng = Rng.derive(plan.seed, 'client', data.clientId);
  const positives = localPositives(data);
  const epochs: ExampleSet[] = [];
  for (let e = 0; e < plan.localEpochs; e++) epochs.push(buildEpochExamples(positives, sampler, 'bpr', 1, rng));
  const rows = uniqueSorted([...data.positives, ...epochs.map((ex) => ex.negatives!)]);
  const userEmb = state?.local.userEmb ?? freshUsers(data, plan);
  const model = egoGraphModel(plan, itemEmb, data, userEmb, rows);
  const start = model.itemEmb.slice();
  const ncl = plan.ncl ? new NclLoss(data.users.length, rows.length, plan.dim, { ...plan.ncl.loss, sslReg: 0, userSide: false }) : null;
  if (ncl && plan.ncl?.itemPrototypes) {
    const { centroids, assignment } = plan.ncl.itemPrototypes;
    ncl.itemPrototypes = { centroids, assignment: Int32Array.from(rows, (r) => assignment[r]) };
  }
  const trainer = new GraphTrainer(model, createOptimizer(plan.optimizer), { batch: plan.batch, reg: plan.reg, itemScoring: 'layer0' }, ncl);
  let loss = 0;
  for (const ex of epochs) loss = trainer.fitEpoch(compactExamples(ex, rows));
  const now = model.itemEmb;
  const delta = new Float32Array(now.length);
  for (let k = 0; k < now.length; k++) delta[k] = now[k] - start[k];
  const weight = epochs.length > 0 ? epochs[epochs.length - 1].length : 0;
  return {
    update: { round: plan.round, weight, rows, itemTables: { itemEmb: delta }, denseTables: {}, loss },
    state: { local: { userEmb: model.userEmb.slice() } },
  };
}

/**
 * The client's users' propagated embeddings ū [users, dim] on their ego-graph with the current
 * global items: what the device scores with (ū · e_i for every item i).
 */
export function egoUserEmbeddings(plan: Pick<GraphRoundPlan, 'dim' | 'layers'>, itemEmb: Float32Array, data: ClientData, state: ClientState): Float32Array {
  const rows = uniqueSorted(data.positives);
  const model = egoGraphModel({ ...plan, ncl: null }, itemEmb, data, state.local.userEmb, rows);
  model.forward();
  return model.propagation.final.slice(0, data.users.length * plan.dim);
}

/** LightGCN over the ego-graph: client users, then item rows `rows` (sorted global ids) of the item table. */
function egoGraphModel(plan: Pick<GraphRoundPlan, 'dim' | 'layers' | 'ncl'>, itemEmb: Float32Array, data: ClientData, userEmb: Float32Array, rows: Int32Array): LightGcn {
  const nUsers = data.users.length;
  const dim = plan.dim;
  if (userEmb.length !== nUsers * dim) throw new RangeError(`client ${data.clientId}: user table has ${userEmb.length} values, expected ${nUsers}×${dim}`);
  const indptr = new Int32Array(nUsers + 1);
  data.positives.forEach((p, k) => (indptr[k + 1] = indptr[k] + p.length));
  const indices = new Int32Array(indptr[nUsers]);
  data.positives.forEach((p, k) => indices.set(toCompact(p, rows), indptr[k]));
  const e0 = new Float32Array((nUsers + rows.length) * dim);
  e0.set(userEmb);
  e0.set(gatherRows(itemEmb, dim, rows), nUsers * dim);
  const depth = plan.ncl ? Math.max(plan.layers, 2 * plan.ncl.loss.hyperLayers) : plan.layers;
  return new LightGcn({ nUsers, nItems: rows.length, dim, layers: plan.layers, depth }, { indptr, indices }, { e0 });
}

function freshUsers(data: ClientData, plan: GraphRoundPlan): Float32Array {
  const rng = Rng.derive(plan.seed, 'init-local', data.clientId);
  return fillNormal(new Float32Array(data.users.length * plan.dim), USER_INIT_STD, rng);
}
