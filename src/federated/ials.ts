/**
 * Federated implicit ALS: iALS (Hu, Koren & Volinsky, ICDM 2008; regularisation and objective as
 * in Rendle et al., RecSys 2022, models/ials/solve.ts) federated as in Ammad-ud-din et al.,
 * "Federated Collaborative Filtering for Privacy-Preserving Personalized Recommendation System"
 * (2019): the server holds the item factors H; a device solves its user factor in closed form and
 * sends only item-side statistics.
 *
 * Round, on each device (`runIalsClient`), for each of its users u with train positives I_u:
 *  1. w_u = (α₀·G_H + Σ_{i∈I_u} c_ui·h_i·h_iᵀ + λ_u·I)⁻¹ · Σ_{i∈I_u} c_ui·h_i   (dim × dim Cholesky;
 *     c_ui = 1, or the plan's recency weight for the user's latest positives: `recencyConfidence`);
 *  2. send, for its positives' rows, c_ui·(w_u·h_i − 1)·w_u — the observed part of ½∂L/∂h_i — and
 *     the dense w_u·w_uᵀ (dim × dim), from which the server forms the unobserved part α₀·G_W·h_i
 *     for every item. w_u itself never leaves the device; it is solved afresh every round.
 * On the server (`IalsStrategy`), with S_i the summed rows, n_i how many devices sent row i, N the
 * round's devices and G_W the summed w_u·w_uᵀ:
 *  3. ½∇_i = S_i + α₀·G_W·h_i + λ_i·h_i, λ_i = λ·(n_i + α₀·N)^ν;
 *  4. h_i ← h_i − η·P_i⁻¹·½∇_i with P_i = (α₀ + n_i/N)·G_W + λ_i·I, the item's exact Hessian
 *     α₀·G_W + Σ_{u∈U_i} w_u·w_uᵀ + λ_i·I with the per-item sum replaced by n_i times the mean
 *     outer product (the server never sees a single w_u·w_uᵀ per item). An item nobody observed
 *     lands exactly where ALS puts it (η = 1); the fixed point is ALS's.
 * What the server learns: which items each device has interacted with (its update's rows; FedAvg
 * reveals them too, mixed with sampled negatives) and w_u·w_uᵀ per device; secure aggregation would
 * leave it only the sums.
 */
import { choleskyInPlace, choleskySolveInPlace } from '../math/cholesky.js';
import { gramian, rowReg, solveRow, symmetrise, type IalsHyper } from '../models/ials/solve.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import { uniqueSorted } from './compact.js';
import type { ClientData, ClientResult, GlobalUpdate, RoundPlan, RoundSummary, Strategy } from './types.js';

/**
 * Confidence of each of a user's train positives (aligned with them): `weight` for the `window`
 * latest (recency rank below `window`), 1 for the others — Hu et al.'s c_ui from time instead of
 * counts, the recency weighting of train/recency.ts. Null (all 1) when off or without timestamps.
 */
export function recencyConfidence(ranks: Int32Array | null | undefined, weighting: { readonly window: number; readonly weight: number } | undefined): Float32Array | null {
  if (!ranks || !weighting || weighting.window <= 0 || weighting.weight === 1) return null;
  return Float32Array.from(ranks, (r) => (r < weighting.window ? weighting.weight : 1));
}

/** Every user factor of a device, solved in closed form against the global item factors (the device's scoring tables). */
export function solveLocalUsers(dim: number, hyper: IalsHyper, global: GlobalParams, data: ClientData, recency?: RoundPlan['recency'], itemGram?: Float64Array): LocalParams {
  const H = global.itemEmb;
  const gram = itemGram ?? gramian(H, dim);
  const nItems = H.length / dim;
  const W = new Float32Array(data.users.length * dim);
  const x = new Float64Array(dim);
  data.positives.forEach((items, k) => {
    solveRow(H, dim, items, gram, hyper.unobservedWeight, rowReg(hyper, items.length, nItems), x, recencyConfidence(data.recency?.[k], recency));
    for (let f = 0; f < dim; f++) W[k * dim + f] = x[f];
  });
  return { userEmb: W };
}

/**
 * Steps 1–2 on one device. `itemGram` is G_H of `global.itemEmb` when the caller has it (the
 * simulation computes it once per round with the same function); the update's weight is the number
 * of train positives, its loss the device's share of the iALS objective per positive.
 */
export function runIalsClient(plan: RoundPlan, hyper: IalsHyper, global: GlobalParams, data: ClientData, itemGram?: Float64Array): ClientResult {
  const dim = plan.model.dim;
  const H = global.itemEmb;
  const nItems = H.length / dim;
  const gram = itemGram ?? gramian(H, dim);
  const rows = uniqueSorted([...data.positives]);
  const sums = new Float64Array(rows.length * dim);
  const outer = new Float64Array(dim * dim);
  const w = new Float64Array(dim);
  let loss = 0;
  let weight = 0;
  data.positives.forEach((items, u) => {
    const confidence = recencyConfidence(data.recency?.[u], plan.recency);
    solveRow(H, dim, items, gram, hyper.unobservedWeight, rowReg(hyper, items.length, nItems), w, confidence);
    let r = 0;
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      while (rows[r] < i) r++; // positives are sorted: r only moves forward
      let s = 0;
      for (let f = 0; f < dim; f++) s += w[f] * H[i * dim + f];
      const c = confidence ? confidence[k] : 1;
      const e = s - 1;
      loss += c * e * e;
      for (let f = 0; f < dim; f++) sums[r * dim + f] += c * e * w[f];
    }
    for (let a = 0; a < dim; a++) {
      let gw = 0;
      for (let b = 0; b < dim; b++) gw += gram[a * dim + b] * w[b];
      loss += hyper.unobservedWeight * w[a] * gw;
      for (let b = 0; b <= a; b++) outer[a * dim + b] += w[a] * w[b];
    }
    weight += items.length;
  });
  symmetrise(outer, dim);
  const update: GlobalUpdate = {
    round: plan.round,
    weight,
    rows,
    itemTables: { itemEmb: Float32Array.from(sums) },
    denseTables: { userGramian: Float32Array.from(outer) },
    loss: weight > 0 ? loss / weight : 0,
  };
  return { update, state: null };
}

/** Steps 3–4: the server's streaming fold and item step. */
export class IalsStrategy implements Strategy {
  readonly name = 'ials';
  private readonly sums: Float64Array;
  private readonly counts: Int32Array;
  private readonly userGram: Float64Array;
  private round = 0;
  private clients = 0;
  private lossSum = 0;
  private weightSum = 0;

  constructor(
    private readonly nItems: number,
    private readonly dim: number,
    private readonly hyper: IalsHyper,
    /** η: 1 takes the full preconditioned step. */
    private readonly stepSize: number,
  ) {
    this.sums = new Float64Array(nItems * dim);
    this.counts = new Int32Array(nItems);
    this.userGram = new Float64Array(dim * dim);
  }

  beginRound(round: number): void {
    this.round = round;
    this.sums.fill(0);
    this.counts.fill(0);
    this.userGram.fill(0);
    this.clients = 0;
    this.lossSum = 0;
    this.weightSum = 0;
  }

  accept(update: GlobalUpdate): void {
    if (update.round !== this.round) throw new Error(`update for round ${update.round} arrived in round ${this.round}`);
    const d = this.dim;
    const rowsT = update.itemTables.itemEmb;
    const gram = update.denseTables.userGramian;
    if (!rowsT || rowsT.length !== update.rows.length * d) throw new Error(`an iALS update needs item table 'itemEmb' with ${update.rows.length} × ${d} values`);
    if (!gram || gram.length !== d * d) throw new Error(`an iALS update needs dense table 'userGramian' with ${d} × ${d} values`);
    update.rows.forEach((i, k) => {
      this.counts[i]++;
      for (let f = 0; f < d; f++) this.sums[i * d + f] += rowsT[k * d + f];
    });
    for (let k = 0; k < d * d; k++) this.userGram[k] += gram[k];
    this.clients++;
    this.lossSum += update.weight * update.loss;
    this.weightSum += update.weight;
  }

  endRound(global: GlobalParams): RoundSummary {
    const summary = { round: this.round, clients: this.clients, loss: this.weightSum > 0 ? this.lossSum / this.weightSum : 0 };
    if (this.clients === 0) return summary;
    const d = this.dim;
    const H = global.itemEmb;
    const G = this.userGram;
    const N = this.clients;
    const a0 = this.hyper.unobservedWeight;
    const p = new Float64Array(d * d);
    const g = new Float64Array(d);
    for (let i = 0; i < this.nItems; i++) {
      const n = this.counts[i];
      const reg = rowReg(this.hyper, n, N);
      const scale = a0 + n / N;
      const io = i * d;
      for (let a = 0; a < d; a++) {
        let gh = 0;
        for (let b = 0; b < d; b++) {
          gh += G[a * d + b] * H[io + b];
          p[a * d + b] = scale * G[a * d + b];
        }
        p[a * d + a] += reg;
        g[a] = this.sums[io + a] + a0 * gh + reg * H[io + a];
      }
      choleskyInPlace(p, d);
      choleskySolveInPlace(p, d, g);
      for (let f = 0; f < d; f++) H[io + f] -= this.stepSize * g[f];
    }
    global.userGramian.set(Float32Array.from(G));
    return summary;
  }
}
