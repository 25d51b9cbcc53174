/**
 * The UFGraphFR client model (Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044, §3;
 * built on GPFedRec, Zhang et al., KDD 2024), for the users one client holds:
 *   e_u   = v_u · W_u + b_u                joint embedding layer (local); v_u [textDim] frozen text vector
 *           (+ mean of Q[j] over the user's latest train positives j: the optional recent-items term)
 *   q_i   = Q[i]                            item row from the client's item table (initialised from the server)
 *   s(u,i) = MLP([e_u, q_i]) (+ e_u·q_i)    ReLU tower 'head{k}' then 'out' → logit (sigmoid in the loss);
 *                                           the dot product (a GMF branch, config `dot`) is beyond the paper
 *   loss  = BCE(s, y) over positives and sampled negatives + λ · mean_r ‖Q_r − R_r‖²
 * where R is the personalised table the server sent; per minibatch the λ term is taken over the rows
 * the batch's examples use (see `addProximal`).
 * Tables: 'jointA' and 'jointB' [nUsers, dim] are user-indexed (local); 'item' [nRows, dim]; head
 * layers are dense.
 * Joint layer, factored: every user starts from the same seeded Glorot matrix W_init (the initial model
 * the server hands out), so e_u = v_u·W_init at the start: the text drives the user embedding and
 * similar texts start close. The gradient of W_u is always the outer product v_u ⊗ ∂L/∂e_u, so
 * W_u = W_init + v_u ⊗ a_u at all times: we store a_u [dim] ('jointA') and v_u·W_init (`TextInputs.base`,
 * computed once), compute e_u = v_u·W_init + ‖v_u‖²·a_u + b_u, and expand the trained part
 * vec(W_u − W_init) = v_u ⊗ a_u only for the upload (`weightVector`). Under SGD this is exactly the
 * full [textDim, dim] layer (∂L/∂a_u = ‖v_u‖²·∂L/∂e_u), at O(dim) instead of O(textDim·dim) per step
 * and per user of state; under Adam the per-coordinate scaling acts on a_u's coordinates.
 * Cost per example: the user half of the first layer (b0 + e_u·W0[0:d)) is constant within a
 * minibatch, so it is computed once per user and batch, and its gradients (W0[0:d), b0, a_u, b_u)
 * are accumulated per user in that layer's output space and expanded once per minibatch by
 * `endBatch` (the fitEpoch batch hook), which also adds the λ term.
 */
import { denseForward, fillUniform, pointwiseGrad, pointwiseLoss } from '../../math/kernels.js';
import { initParams, paramInfo } from '../params.js';
import { BatchedHead, batchedHeadApplies } from './batched-head.js';
import type { Grads, GlobalParams, ParamInfo, Params, PointwiseLoss } from '../types.js';
import type { Rng } from '../../math/rng.js';

export interface TextGraphConfig {
  /** Width of the text vectors v_u. */
  readonly textDim: number;
  /** Joint embedding and item embedding width d. */
  readonly dim: number;
  /** Hidden widths of the MLP head on [e_u, q_i] (input 2·dim, output 1). */
  readonly layers: readonly number[];
  /** Weight λ of the pull towards the personalised table. */
  readonly lambda: number;
  /**
   * Add the dot product e_u·q_i to the head's logit (a GMF branch beside the MLP, as NeuMF does;
   * He et al., WWW 2017). Off: the paper's head, MLP([e_u, q_i]) only.
   */
  readonly dot?: boolean;
  /**
   * Recent-items term (beyond the paper): e_u also adds the mean item vector of the user's
   * `recentItems` latest train positives, as FISM (Kabbur et al., KDD 2013) and Fossil (He & McAuley,
   * ICDM 2016) represent a user by the items it consumed; 0 or absent: the paper's e_u.
   */
  readonly recentItems?: number;
}

/** Each user's recent items as rows of the model's item table: user u's are rows[indptr[u] .. indptr[u+1]). */
export interface RecentItems {
  readonly indptr: Int32Array;
  readonly rows: Int32Array;
}

/** A `RecentItems` from one list of item-table rows per user. */
export function recentItemsOf(lists: readonly Int32Array[]): RecentItems {
  const indptr = new Int32Array(lists.length + 1);
  lists.forEach((l, u) => (indptr[u + 1] = indptr[u] + l.length));
  const rows = new Int32Array(indptr[lists.length]);
  lists.forEach((l, u) => rows.set(l, indptr[u]));
  return { indptr, rows };
}

/** The users' frozen text input: v_u and its image under the common initial joint layer W_init. */
export interface TextInputs {
  /** v_u, [nUsers, textDim]. */
  readonly vectors: Float32Array;
  /** v_u·W_init, [nUsers, dim]. */
  readonly base: Float32Array;
}

/** The personalised table the item rows are pulled to. */
export interface Proximal {
  /** R rows aligned with the model's 'item' table: [nRows, dim]. */
  readonly target: Float32Array;
}

/** Dense head tables: 'head{k}.W' [in, out], 'head{k}.b' [1, out], 'out.W' [last, 1], 'out.b' [1, 1]. */
export function headParamInfo(config: TextGraphConfig): ParamInfo[] {
  const info: ParamInfo[] = [];
  let width = 2 * config.dim;
  config.layers.forEach((out, k) => {
    info.push(paramInfo(`head${k}.W`, width, out, 'dense'), paramInfo(`head${k}.b`, 1, out, 'dense'));
    width = out;
  });
  info.push(paramInfo('out.W', width, 1, 'dense'), paramInfo('out.b', 1, 1, 'dense'));
  return info;
}

export function textGraphParamInfo(config: TextGraphConfig, nUsers: number, nRows: number): ParamInfo[] {
  return [
    paramInfo('jointA', nUsers, config.dim, 'user'),
    paramInfo('jointB', nUsers, config.dim, 'user'),
    paramInfo('item', nRows, config.dim, 'item'),
    ...headParamInfo(config),
  ];
}

/** Fresh server-side tables: item table N(0, initStd²) and a Glorot-initialised head. */
export function initTextGraphGlobal(config: TextGraphConfig, nItems: number, rng: Rng, initStd = 0.01): GlobalParams {
  return initParams([paramInfo('item', nItems, config.dim, 'item'), ...headParamInfo(config)], initStd, rng).global;
}

/** W_init [textDim, dim], the joint layer every user starts from: Glorot-uniform, seeded. */
export function initJointLayer(config: TextGraphConfig, rng: Rng): Float32Array {
  const w0 = new Float32Array(config.textDim * config.dim);
  fillUniform(w0, Math.sqrt(6 / (config.textDim + config.dim)), rng);
  return w0;
}

/** v_u·W_init of every user: the text inputs of the model. `vectors` is [nUsers, textDim]. */
export function textInputs(config: TextGraphConfig, vectors: Float32Array, w0: Float32Array): TextInputs {
  const { textDim: T, dim: d } = config;
  const n = vectors.length / T;
  const base = new Float32Array(n * d);
  for (let u = 0; u < n; u++) {
    for (let t = 0; t < T; t++) {
      const v = vectors[u * T + t];
      if (v === 0) continue;
      for (let f = 0; f < d; f++) base[u * d + f] += v * w0[t * d + f];
    }
  }
  return { vectors, base };
}

/** The text inputs of users `users` (rows of `all`), e.g. one client's. */
export function selectTextInputs(config: TextGraphConfig, all: TextInputs, users: ArrayLike<number>): TextInputs {
  const { textDim: T, dim: d } = config;
  const vectors = new Float32Array(users.length * T);
  const base = new Float32Array(users.length * d);
  for (let k = 0; k < users.length; k++) {
    const u = users[k];
    vectors.set(all.vectors.subarray(u * T, (u + 1) * T), k * T);
    base.set(all.base.subarray(u * d, (u + 1) * d), k * d);
  }
  return { vectors, base };
}

/** Fresh joint embedding layers for `nUsers` users: W = W_init (A = 0), b = 0, so vec(W_u − W_init) holds only what training put there. */
export function freshJoint(config: TextGraphConfig, nUsers: number): { jointA: Float32Array; jointB: Float32Array } {
  return { jointA: new Float32Array(nUsers * config.dim), jointB: new Float32Array(nUsers * config.dim) };
}

/** vec(W_u − W_init) = v_u ⊗ a_u, [textDim·dim] row-major (W_u [textDim, dim]), written to out[offset ..). */
export function jointWeights(text: Float32Array, textOffset: number, textDim: number, a: Float32Array, aOffset: number, dim: number, out: Float32Array, offset = 0): void {
  for (let t = 0; t < textDim; t++) {
    const vt = text[textOffset + t];
    const row = offset + t * dim;
    for (let f = 0; f < dim; f++) out[row + f] = vt * a[aOffset + f];
  }
}

export class TextGraphModel {
  readonly info: ParamInfo[];
  readonly nItems: number;
  private readonly T: number;
  private readonly d: number;
  private readonly nL: number;
  /** Width of the first layer's output (layers[0], or 1 when the head has no hidden layer). */
  private readonly h1: number;
  private readonly widths: number[]; // [2d, layers...]
  private readonly W: Float32Array[]; // head{k}.W, then out.W
  private readonly B: Float32Array[]; // head{k}.b, then out.b
  private readonly q: Float32Array; // [d] the item vector of the last forward pass
  private readonly acts: Float32Array[]; // acts[k], k ≥ 1: output of hidden layer k-1 (after ReLU)
  private readonly gradActs: Float32Array[];
  private readonly scratch: Float32Array; // [1] the output unit when the head has no hidden layer
  private readonly texts: Float32Array; // [nUsers, textDim] v_u
  private readonly textBase: Float32Array; // [nUsers, d] v_u·W_init
  private readonly textNorm2: Float32Array; // [nUsers] ‖v_u‖²
  private readonly pre: Float32Array; // [nUsers, h1] cached b0 + e_u·W0[0:d)
  private readonly e: Float32Array; // [nUsers, d] cached e_u
  private readonly stamp: Int32Array; // [nUsers] generation of the cache
  private generation = 1;
  private readonly wT: Float32Array; // [h1, d] W0[d:2d) transposed
  private wTGeneration = 0;
  private readonly active: Int32Array; // [h1] first-layer units with a nonzero gradient
  private readonly gPre: Float32Array; // [nUsers, h1] Σ ∂L/∂pre_u over this batch
  private readonly gE: Float32Array; // [nUsers, d] Σ ∂L/∂e_u through the dot term over this batch
  private readonly gEu: Float32Array; // [d] ∂L/∂e_u of the user endBatch is expanding
  private recentOverride: Float32Array | null = null; // rows of one user's recent items, during scoreVectors
  private readonly gPreUsers: Int32Array;
  private gPreCount = 0;
  private readonly gPreMark: Uint8Array;
  private readonly rowUses: Int32Array; // [nRows] examples of each item row in this batch
  private readonly batchRows: Int32Array; // rows used in this batch
  private batchRowCount = 0;
  private batchSize = 0;
  /** The batched path (the head as SIMD matrix products, batched-head.ts), created on first use. */
  private head: BatchedHead | null = null;
  private dScores = new Float64Array(0);
  private runUsers = new Int32Array(0); // user of each run of consecutive rows in a batch
  /**
   * `pointwise` over examples [start, end) with the head as matrix products over the batch; absent
   * when the shape does not fit the kernels, WebAssembly SIMD is missing or `batched: false` asked
   * for the per-example reference path. Same gradients up to float32 summation order.
   */
  readonly pointwiseBatch?: (users: Int32Array, items: Int32Array, labels: Float32Array, start: number, end: number,
    loss: PointwiseLoss, scale: number, grads: Grads) => number;

  /**
   * @param text frozen text inputs, rows aligned with the user tables.
   * @param proximal the λ-term target, or null (no pull, e.g. centralised training).
   * @param recent each user's recent items for the recent-items term (`config.recentItems` > 0), or null (none).
   * @param options `batched: false` keeps training on the per-example reference path.
   */
  constructor(
    readonly config: TextGraphConfig,
    readonly nUsers: number,
    nRows: number,
    readonly params: Params,
    text: TextInputs,
    private readonly proximal: Proximal | null,
    private readonly recent: RecentItems | null = null,
    options: { readonly batched?: boolean } = {},
  ) {
    const texts = text.vectors;
    this.texts = texts;
    this.textBase = text.base;
    this.T = config.textDim;
    this.d = config.dim;
    this.nItems = nRows;
    this.info = textGraphParamInfo(config, nUsers, nRows);
    for (const p of this.info) {
      const arr = (p.scope === 'local' ? params.local : params.global)[p.name];
      if (!arr || arr.length !== p.rows * p.cols) throw new Error(`text-graph model: table '${p.name}' must have ${p.rows}×${p.cols} values, got ${arr?.length}`);
    }
    if (texts.length !== nUsers * this.T) throw new Error(`text-graph model: texts must be [${nUsers}, ${this.T}], got ${texts.length} values`);
    if (text.base.length !== nUsers * this.d) throw new Error(`text-graph model: text base v·W_init must be [${nUsers}, ${this.d}], got ${text.base.length} values`);
    if (proximal && proximal.target.length !== nRows * this.d) throw new Error(`text-graph model: proximal target must be [${nRows}, ${this.d}]`);
    if (recent) {
      if (recent.indptr.length !== nUsers + 1 || recent.indptr[nUsers] !== recent.rows.length) throw new Error(`text-graph model: recent items must index ${nUsers} users, got indptr of ${recent.indptr.length} for ${recent.rows.length} rows`);
      const bad = recent.rows.find((r) => r < 0 || r >= nRows);
      if (bad !== undefined) throw new Error(`text-graph model: recent item row ${bad} outside the item table of ${nRows} rows`);
    }
    this.nL = config.layers.length;
    this.widths = [2 * this.d, ...config.layers];
    this.h1 = this.nL > 0 ? config.layers[0] : 1;
    this.W = [...config.layers.map((_, k) => params.global[`head${k}.W`]), params.global['out.W']];
    this.B = [...config.layers.map((_, k) => params.global[`head${k}.b`]), params.global['out.b']];
    this.q = new Float32Array(this.d);
    this.acts = this.widths.map((w) => new Float32Array(w));
    this.gradActs = this.widths.map((w) => new Float32Array(w));
    this.scratch = new Float32Array(1);
    this.textNorm2 = new Float32Array(nUsers);
    for (let u = 0; u < nUsers; u++) {
      let s = 0;
      for (let t = u * this.T, end = t + this.T; t < end; t++) s += texts[t] * texts[t];
      this.textNorm2[u] = s;
    }
    this.pre = new Float32Array(nUsers * this.h1);
    this.e = new Float32Array(nUsers * this.d);
    this.stamp = new Int32Array(nUsers);
    this.wT = new Float32Array(this.h1 * this.d);
    this.active = new Int32Array(this.h1);
    this.gPre = new Float32Array(nUsers * this.h1);
    this.gE = new Float32Array(config.dot ? nUsers * this.d : 0);
    this.gEu = new Float32Array(this.d);
    this.gPreUsers = new Int32Array(nUsers);
    this.gPreMark = new Uint8Array(nUsers);
    this.rowUses = new Int32Array(nRows);
    this.batchRows = new Int32Array(nRows);
    if (options.batched !== false && batchedHeadApplies(this.d, config.layers)) {
      this.pointwiseBatch = (users, items, labels, start, end, loss, scale, grads) => this.batchPointwise(users, items, labels, start, end, loss, scale, grads);
    }
  }

  /** Forget cached per-user terms (call after changing parameters outside training). */
  invalidate(): void {
    this.generation++;
  }

  /** vec(W_u − W_init) = v_u ⊗ a_u [textDim·dim] of user u, into out[offset ..). */
  weightVector(u: number, out: Float32Array, offset = 0): void {
    jointWeights(this.texts, u * this.T, this.T, this.params.local.jointA, u * this.d, this.d, out, offset);
  }

  /** e_u = v_u·W_init + ‖v_u‖²·a_u + b_u and pre_u = b0 + e_u·W0[0:d), cached until the next optimiser step; returns u·h1. */
  private userTerms(u: number): number {
    const { d, h1 } = this;
    const po = u * h1;
    if (this.stamp[u] !== this.generation) {
      const a = this.params.local.jointA;
      const b = this.params.local.jointB;
      const n2 = this.textNorm2[u];
      const eo = u * d;
      const base = this.textBase;
      for (let f = 0; f < d; f++) this.e[eo + f] = base[eo + f] + n2 * a[eo + f] + b[eo + f];
      if (this.recent) this.addRecentMean(u);
      const w0 = this.W[0];
      const b0 = this.B[0];
      for (let j = 0; j < h1; j++) this.pre[po + j] = b0[j];
      for (let f = 0; f < d; f++) {
        const ef = this.e[eo + f];
        const row = f * h1;
        for (let j = 0; j < h1; j++) this.pre[po + j] += ef * w0[row + j];
      }
      this.stamp[u] = this.generation;
    }
    return po;
  }

  /** e_u += mean of user u's recent item rows (from `recentOverride` while `scoreVectors` was given them). */
  private addRecentMean(u: number): void {
    const { d } = this;
    const { indptr, rows } = this.recent!;
    const n = indptr[u + 1] - indptr[u];
    if (n === 0) return;
    const over = this.recentOverride;
    const src = over ?? this.params.global.item;
    const eo = u * d;
    const inv = 1 / n;
    for (let k = 0; k < n; k++) {
      const io = over ? k * d : rows[indptr[u] + k] * d;
      for (let f = 0; f < d; f++) this.e[eo + f] += inv * src[io + f];
    }
  }

  /** ∂L/∂e_u (in `gEu`) flows to user u's recent item rows: each gets ∂L/∂e_u / n. */
  private backwardRecent(u: number, gEu: Float32Array, grads: Grads): void {
    const { d } = this;
    const { indptr, rows } = this.recent!;
    const n = indptr[u + 1] - indptr[u];
    if (n === 0) return;
    const gItem = grads.values.item;
    const inv = 1 / n;
    for (let k = indptr[u]; k < indptr[u + 1]; k++) {
      const io = rows[k] * d;
      for (let f = 0; f < d; f++) gItem[io + f] += inv * gEu[f];
      grads.touch('item', rows[k]);
    }
  }

  /** W0[d:2d) transposed, [h1, d], rebuilt once per optimiser step. */
  private itemHalfT(): Float32Array {
    if (this.wTGeneration !== this.generation) {
      const { d, h1 } = this;
      const w0 = this.W[0];
      for (let f = 0; f < d; f++) for (let j = 0; j < h1; j++) this.wT[j * d + f] = w0[(d + f) * h1 + j];
      this.wTGeneration = this.generation;
    }
    return this.wT;
  }

  /** Logit of user u against the item vector table[offset .. offset + d); leaves activations for backward. */
  private forwardWith(u: number, table: Float32Array, offset: number): number {
    const { d, h1, nL } = this;
    const po = this.userTerms(u);
    const q = this.q;
    for (let f = 0; f < d; f++) q[f] = table[offset + f];
    // first layer: pre_u + q·W0[d:2d), as dot products with the transposed item half
    const wT = this.itemHalfT();
    const z = nL > 0 ? this.acts[1] : this.scratch;
    const dot = this.config.dot ? this.dotTerm(u) : 0;
    for (let j = 0; j < h1; j++) {
      const row = j * d;
      let s0 = 0;
      let s1 = 0;
      let f = 0;
      for (; f + 1 < d; f += 2) {
        s0 += q[f] * wT[row + f];
        s1 += q[f + 1] * wT[row + f + 1];
      }
      if (f < d) s0 += q[f] * wT[row + f];
      z[j] = this.pre[po + j] + s0 + s1;
    }
    if (nL === 0) return z[0] + dot;
    for (let j = 0; j < h1; j++) if (z[j] < 0) z[j] = 0;
    for (let k = 1; k < nL; k++) {
      const out = this.acts[k + 1];
      denseForward(this.acts[k], 0, this.widths[k], this.W[k], this.B[k], this.widths[k + 1], out, 0);
      for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
    }
    const last = this.acts[nL];
    const outW = this.W[nL];
    let logit = this.B[nL][0];
    for (let j = 0; j < last.length; j++) logit += last[j] * outW[j];
    return logit + dot;
  }

  /** e_u·q for the item vector of the current forward pass (`this.q`). */
  private dotTerm(u: number): number {
    const { d } = this;
    const eo = u * d;
    let s = 0;
    for (let f = 0; f < d; f++) s += this.e[eo + f] * this.q[f];
    return s;
  }

  score(u: number, i: number): number {
    return this.forwardWith(u, this.params.global.item, i * this.d);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    const item = this.params.global.item;
    for (let k = 0; k < items.length; k++) out[k] = this.forwardWith(user, item, items[k] * this.d);
  }

  /**
   * Scores of user u against n item vectors given as rows of `vectors` [n, d]; `recent` [m, d], if
   * given, replaces the table rows of the user's m recent items in e_u (e.g. its personalised rows).
   */
  scoreVectors(u: number, vectors: Float32Array, n: number, out: Float32Array, recent?: Float32Array): void {
    if (recent) {
      this.recentOverride = recent;
      this.stamp[u] = 0;
    }
    for (let k = 0; k < n; k++) out[k] = this.forwardWith(u, vectors, k * this.d);
    if (recent) {
      this.recentOverride = null;
      this.stamp[u] = 0;
    }
  }

  /** The item-table rows of user u's recent items (the recent-items term), in the order e_u reads them. */
  recentRowsOf(u: number): Int32Array {
    return this.recent ? this.recent.rows.subarray(this.recent.indptr[u], this.recent.indptr[u + 1]) : new Int32Array(0);
  }

  backward(u: number, i: number, dScore: number, grads: Grads): void {
    this.forwardWith(u, this.params.global.item, i * this.d);
    this.backwardFromActs(u, i, dScore, grads);
  }

  /** Fused forward + backward of a pointwise loss (the fitEpoch path); returns the example's loss. */
  pointwise(u: number, i: number, label: number, loss: PointwiseLoss, scale: number, grads: Grads): number {
    const s = this.forwardWith(u, this.params.global.item, i * this.d);
    this.backwardFromActs(u, i, scale * pointwiseGrad(s, label, loss), grads);
    return pointwiseLoss(s, label, loss);
  }

  /**
   * `pointwise` for examples [start, end) at once: the item half of the first layer and the hidden
   * layers run as matrix products over the batch (batched-head.ts); the user term pre_u, the output
   * unit, the dot-product branch, the loss and the bookkeeping of `backwardFromActs` stay here, in
   * the same order. The deferred user half is accumulated exactly as the per-example path does.
   */
  private batchPointwise(users: Int32Array, items: Int32Array, labels: Float32Array, start: number, end: number,
    loss: PointwiseLoss, scale: number, grads: Grads): number {
    const { d, h1, nL } = this;
    const n = end - start;
    if (n <= 0) return 0;
    this.head ??= new BatchedHead(d, this.config.layers);
    const head = this.head;
    const v = head.begin(n);
    const item = this.params.global.item;
    const x = v.input;
    const pre = this.pre;
    const runBias = v.runBias;
    if (this.runUsers.length < n) this.runUsers = new Int32Array(n);
    const runUsers = this.runUsers;
    let runs = 0;
    for (let r = 0; r < n; r++) {
      const u = users[start + r];
      if (r === 0 || u !== users[start + r - 1]) {
        // a run of rows of one user shares its user term p_u = b0 + e_u·W0[0:d)
        const po = this.userTerms(u);
        head.startRun(r);
        runUsers[runs] = u;
        for (let j = 0, o = runs * h1; j < h1; j++) runBias[o + j] = pre[po + j];
        runs++;
      }
      const io = items[start + r] * d;
      for (let f = 0, o = r * d; f < d; f++) x[o + f] = item[io + f];
    }
    head.loadWeights(this.W[0].subarray(d * h1, 2 * d * h1), this.W, this.B);
    head.forward();
    // output unit (+ e_u·q), loss, ∂L/∂s; G_L = ∂L/∂(pre-ReLU of the last hidden layer)
    const gv = grads.values;
    const wl = this.widths[nL];
    const last = v.last;
    const gLast = v.gradLast;
    const outW = this.W[nL];
    const outB = this.B[nL][0];
    const gOutW = gv['out.W'];
    const gOutB = gv['out.b'];
    const dot = this.config.dot === true;
    const e = this.e;
    if (this.dScores.length < n) this.dScores = new Float64Array(n);
    const dS = this.dScores;
    let total = 0;
    for (let r = 0; r < n; r++) {
      const o = r * wl;
      let s = outB;
      for (let j = 0; j < wl; j++) s += last[o + j] * outW[j];
      if (dot) {
        const eo = users[start + r] * d;
        const xo = r * d;
        let t = 0;
        for (let f = 0; f < d; f++) t += e[eo + f] * x[xo + f];
        s += t;
      }
      const label = labels[start + r];
      const g = scale * pointwiseGrad(s, label, loss);
      total += pointwiseLoss(s, label, loss);
      dS[r] = g;
      gOutB[0] += g;
      for (let j = 0; j < wl; j++) {
        const a = last[o + j];
        gOutW[j] += g * a;
        gLast[o + j] = a <= 0 ? 0 : g * outW[j];
      }
    }
    head.backward(n);
    // dense gradients: the first layer's item half (rows d..2d of head0.W), hidden layers and biases
    const gW0 = gv['head0.W'];
    const dM0 = v.gradW[0];
    for (let k = 0, o = d * h1; k < dM0.length; k++) gW0[o + k] += dM0[k];
    for (let l = 1; l < nL; l++) {
      const gW = gv[`head${l}.W`];
      const dM = v.gradW[l];
      for (let k = 0; k < dM.length; k++) gW[k] += dM[k];
      const gB = gv[`head${l}.b`];
      const db = v.gradB[l];
      for (let k = 0; k < db.length; k++) gB[k] += db[k];
    }
    // per example: ∂L/∂q into the item row (+ the dot term), the deferred user half, bookkeeping
    const gItem = gv.item;
    const gq = v.gradInput;
    const gE = this.gE;
    const rowUses = this.rowUses;
    for (let r = 0; r < n; r++) {
      const u = users[start + r];
      const i = items[start + r];
      const io = i * d;
      const xo = r * d;
      for (let f = 0; f < d; f++) gItem[io + f] += gq[xo + f];
      if (dot) {
        const eo = u * d;
        const g = dS[r];
        for (let f = 0; f < d; f++) {
          gItem[io + f] += g * e[eo + f];
          gE[eo + f] += g * x[xo + f];
        }
      }
      grads.touchItem(i);
      if (rowUses[i]++ === 0) this.batchRows[this.batchRowCount++] = i;
    }
    this.batchSize += n;
    // the deferred user half: Σ over each run of ∂L/∂p_u
    const gPre = this.gPre;
    const runGrad = v.runGrad;
    for (let k = 0; k < runs; k++) {
      const u = runUsers[k];
      const po = u * h1;
      for (let j = 0, o = k * h1; j < h1; j++) gPre[po + j] += runGrad[o + j];
      if (this.gPreMark[u] === 0) {
        this.gPreMark[u] = 1;
        this.gPreUsers[this.gPreCount++] = u;
      }
    }
    return total;
  }

  /**
   * Backward through the activations the last forward pass left. The user half of the first layer
   * (e_u·W0[0:d) + b0) is constant within a batch, so its gradients are deferred: Σ ∂L/∂pre_u is
   * accumulated per user and expanded once by `endBatch`.
   */
  private backwardFromActs(u: number, i: number, dScore: number, grads: Grads): void {
    const { d, h1, nL } = this;
    const gv = grads.values;
    let g1: Float32Array; // ∂L/∂(first layer pre-activation), [h1]
    if (nL === 0) {
      g1 = this.gradActs[0];
      g1[0] = dScore;
    } else {
      const last = this.acts[nL];
      const outW = this.W[nL];
      gv['out.b'][0] += dScore;
      const gOutW = gv['out.W'];
      const gLast = this.gradActs[nL];
      for (let j = 0; j < last.length; j++) {
        gOutW[j] += dScore * last[j];
        gLast[j] = last[j] <= 0 ? 0 : dScore * outW[j];
      }
      // hidden layers: an input unit the ReLU switched off adds nothing to ∂W and its own
      // gradient is masked, so only active inputs are visited
      for (let k = nL - 1; k >= 1; k--) {
        const x = this.acts[k];
        const gIn = this.gradActs[k];
        const gOut = this.gradActs[k + 1];
        const w = this.W[k];
        const gW = gv[`head${k}.W`];
        const gB = gv[`head${k}.b`];
        const m = this.widths[k + 1];
        for (let j = 0; j < m; j++) gB[j] += gOut[j];
        for (let a = 0; a < x.length; a++) {
          const xa = x[a];
          if (xa <= 0) {
            gIn[a] = 0;
            continue;
          }
          const row = a * m;
          let acc = 0;
          for (let j = 0; j < m; j++) {
            const g = gOut[j];
            gW[row + j] += xa * g;
            acc += w[row + j] * g;
          }
          gIn[a] = acc;
        }
      }
      g1 = this.gradActs[1];
    }
    // first layer, item half: gW0[d + f] += q_f·g1, ∂L/∂q = W0[d:2d)·g1, over the active units only
    const active = this.active;
    let nActive = 0;
    for (let j = 0; j < h1; j++) if (g1[j] !== 0) active[nActive++] = j;
    const w0 = this.W[0];
    const gW0 = gv[nL > 0 ? 'head0.W' : 'out.W'];
    const q = this.q;
    const gItem = gv.item;
    const io = i * d;
    for (let f = 0; f < d; f++) {
      const row = (d + f) * h1;
      const qf = q[f];
      let acc = 0;
      for (let t = 0; t < nActive; t++) {
        const j = active[t];
        const g = g1[j];
        gW0[row + j] += qf * g;
        acc += w0[row + j] * g;
      }
      gItem[io + f] += acc;
    }
    if (this.config.dot) {
      // ∂(e_u·q)/∂q = e_u now; ∂/∂e_u = q, deferred with the user half
      const eo = u * d;
      for (let f = 0; f < d; f++) {
        gItem[io + f] += dScore * this.e[eo + f];
        this.gE[eo + f] += dScore * q[f];
      }
    }
    grads.touch('item', i);
    if (this.rowUses[i]++ === 0) this.batchRows[this.batchRowCount++] = i;
    this.batchSize++;
    // user half and b0: deferred
    const po = u * h1;
    for (let j = 0; j < h1; j++) this.gPre[po + j] += g1[j];
    if (this.gPreMark[u] === 0) {
      this.gPreMark[u] = 1;
      this.gPreUsers[this.gPreCount++] = u;
    }
  }

  /**
   * Batch hook: expand the deferred user-half gradients (per user: gW0[0:d) += e_u ⊗ gPre_u,
   * gb0 += gPre_u, ∂L/∂e_u = W0[0:d)·gPre_u (+ the dot term's Σ dScore·q), then ∂L/∂a_u = ‖v_u‖²·∂L/∂e_u, ∂L/∂b_u = ∂L/∂e_u,
   * and ∂L/∂e_u / n to each of the user's n recent item rows),
   * add the λ term's gradient on the batch's rows, and return the λ term's value.
   * Must run before the optimiser step (it reads the weights the batch's forward passes used).
   */
  endBatch(grads: Grads): number {
    const { d, h1, nL } = this;
    const gv = grads.values;
    const gA = gv.jointA;
    const gB = gv.jointB;
    const w0 = this.W[0];
    const gW0 = gv[nL > 0 ? 'head0.W' : 'out.W'];
    const gB0 = gv[nL > 0 ? 'head0.b' : 'out.b'];
    for (let k = 0; k < this.gPreCount; k++) {
      const u = this.gPreUsers[k];
      const po = u * h1;
      const eo = u * d;
      this.userTerms(u); // e_u as the batch saw it (the cache is still valid here)
      for (let j = 0; j < h1; j++) gB0[j] += this.gPre[po + j];
      const n2 = this.textNorm2[u];
      for (let f = 0; f < d; f++) {
        const ef = this.e[eo + f];
        const row = f * h1;
        let acc = 0;
        for (let j = 0; j < h1; j++) {
          const g = this.gPre[po + j];
          gW0[row + j] += ef * g;
          acc += w0[row + j] * g;
        }
        if (this.config.dot) {
          acc += this.gE[eo + f];
          this.gE[eo + f] = 0;
        }
        gA[eo + f] += n2 * acc;
        gB[eo + f] += acc;
        this.gEu[f] = acc;
      }
      if (this.recent) this.backwardRecent(u, this.gEu, grads);
      for (let j = 0; j < h1; j++) this.gPre[po + j] = 0;
      this.gPreMark[u] = 0;
      grads.touch('jointA', u);
      grads.touch('jointB', u);
    }
    this.gPreCount = 0;
    this.generation++; // the optimiser step that follows changes a, b and the head
    const value = this.proximal && this.config.lambda > 0 && this.batchSize > 0 ? this.addProximal(grads, this.proximal) : 0;
    for (let k = 0; k < this.batchRowCount; k++) this.rowUses[this.batchRows[k]] = 0;
    this.batchRowCount = 0;
    this.batchSize = 0;
    return value;
  }

  /**
   * The λ term of a minibatch on the rows its examples used: λ · Σ_r (n_r / B) ‖Q_r − R_r‖², n_r the
   * examples of row r among the batch's B — the minibatch estimate of λ · mean_r ‖Q_r − R_r‖² over a
   * user's rows (each row of a user's table is used about equally often: its positives once, each
   * sampled negative once). Cost O(B·d) per batch, where the full term would touch every row of the
   * table at every step (and make the optimiser update them all).
   */
  private addProximal(grads: Grads, proximal: Proximal): number {
    const { d } = this;
    const q = this.params.global.item;
    const r = proximal.target;
    const g = grads.values.item;
    const scale = this.config.lambda / this.batchSize;
    let value = 0;
    for (let k = 0; k < this.batchRowCount; k++) {
      const row = this.batchRows[k];
      const w = scale * this.rowUses[row];
      for (let x = row * d, end = x + d; x < end; x++) {
        const diff = q[x] - r[x];
        value += w * diff * diff;
        g[x] += 2 * w * diff;
      }
      this.rowUses[row] = 0;
    }
    return value;
  }
}
