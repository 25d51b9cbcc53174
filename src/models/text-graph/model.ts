/**
 * The UFGraphFR client model (Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044, §3;
 * built on GPFedRec, Zhang et al., KDD 2024), for the users one client holds:
 *   e_u   = v_u · W_u + b_u                joint embedding layer (local); v_u [textDim] frozen text vector
 *   q_i   = Q[i]                            item row from the client's item table (initialised from the server)
 *   s(u,i) = MLP([e_u, q_i])                ReLU tower 'head{k}' then 'out' → logit (sigmoid in the loss)
 *   loss  = BCE(s, y) over positives and sampled negatives + λ · Σ_groups mean_{r∈group} ‖Q_r − R_r‖²
 * where R is the personalised table the server sent, one group per user (the rows that user works on).
 * Tables: 'jointW' [nUsers, textDim·dim] (row u is W_u [textDim, dim] row-major) and 'jointB'
 * [nUsers, dim] are user-indexed (local); 'item' [nRows, dim]; head layers are dense.
 * The gradient of W_u is the outer product v_u ⊗ Σ ∂L/∂e_u, so it is accumulated per example in
 * e-space ([dim]) and expanded once per minibatch by `endBatch` (the fitEpoch batch hook), which also
 * adds the λ term; e_u is cached until that point (W changes only at the optimiser step).
 */
import { denseBackward, denseForward, pointwiseGrad, pointwiseLoss } from '../../math/kernels.js';
import { initParams, paramInfo } from '../params.js';
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
}

/** The personalised table the item rows are pulled to, and which rows belong to which user. */
export interface Proximal {
  /** R rows aligned with the model's 'item' table: [nRows, dim]. */
  readonly target: Float32Array;
  /** Row offsets per group (user): group g owns rows [groups[g], groups[g+1]). */
  readonly groups: Int32Array;
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
    paramInfo('jointW', nUsers, config.textDim * config.dim, 'user'),
    paramInfo('jointB', nUsers, config.dim, 'user'),
    paramInfo('item', nRows, config.dim, 'item'),
    ...headParamInfo(config),
  ];
}

/** Fresh server-side tables: item table N(0, initStd²) and a Glorot-initialised head. */
export function initTextGraphGlobal(config: TextGraphConfig, nItems: number, rng: Rng, initStd = 0.01): GlobalParams {
  return initParams([paramInfo('item', nItems, config.dim, 'item'), ...headParamInfo(config)], initStd, rng).global;
}

/** Fresh joint embedding layers for `nUsers` users: W = 0, b = 0, so vec(W_u) holds only what training put there. */
export function freshJoint(config: TextGraphConfig, nUsers: number): { jointW: Float32Array; jointB: Float32Array } {
  return { jointW: new Float32Array(nUsers * config.textDim * config.dim), jointB: new Float32Array(nUsers * config.dim) };
}

export class TextGraphModel {
  readonly info: ParamInfo[];
  readonly nItems: number;
  private readonly T: number;
  private readonly d: number;
  private readonly widths: number[]; // [2d, layers...]
  private readonly W: Float32Array[];
  private readonly B: Float32Array[];
  private readonly acts: Float32Array[];
  private readonly gradActs: Float32Array[];
  private readonly e: Float32Array; // [nUsers, d] cached joint embeddings
  private readonly eValid: Uint8Array; // [nUsers]
  private readonly gE: Float32Array; // [nUsers, d] ∂L/∂e_u accumulated this batch
  private readonly gEUsers: Int32Array;
  private gECount = 0;
  private readonly gEMark: Uint8Array;

  /**
   * @param texts [nUsers, textDim] frozen text vectors, rows aligned with the user tables.
   * @param proximal the λ-term target, or null (no pull, e.g. centralised training).
   */
  constructor(
    readonly config: TextGraphConfig,
    readonly nUsers: number,
    nRows: number,
    readonly params: Params,
    private readonly texts: Float32Array,
    private readonly proximal: Proximal | null,
  ) {
    this.T = config.textDim;
    this.d = config.dim;
    this.nItems = nRows;
    this.info = textGraphParamInfo(config, nUsers, nRows);
    for (const p of this.info) {
      const arr = (p.scope === 'local' ? params.local : params.global)[p.name];
      if (!arr || arr.length !== p.rows * p.cols) throw new Error(`text-graph model: table '${p.name}' must have ${p.rows}×${p.cols} values, got ${arr?.length}`);
    }
    if (texts.length !== nUsers * this.T) throw new Error(`text-graph model: texts must be [${nUsers}, ${this.T}], got ${texts.length} values`);
    if (proximal && proximal.target.length !== nRows * this.d) throw new Error(`text-graph model: proximal target must be [${nRows}, ${this.d}]`);
    this.widths = [2 * this.d, ...config.layers];
    this.W = config.layers.map((_, k) => params.global[`head${k}.W`]);
    this.B = config.layers.map((_, k) => params.global[`head${k}.b`]);
    this.acts = [...this.widths.map((w) => new Float32Array(w))];
    this.gradActs = this.widths.map((w) => new Float32Array(w));
    this.e = new Float32Array(nUsers * this.d);
    this.eValid = new Uint8Array(nUsers);
    this.gE = new Float32Array(nUsers * this.d);
    this.gEUsers = new Int32Array(nUsers);
    this.gEMark = new Uint8Array(nUsers);
  }

  /** Forget cached joint embeddings (call after changing W or b outside training). */
  invalidate(): void {
    this.eValid.fill(0);
  }

  private joint(u: number): number {
    const { T, d } = this;
    if (this.eValid[u] === 0) {
      const l = this.params.local;
      denseForward(this.texts, u * T, T, l.jointW.subarray(u * T * d, (u + 1) * T * d), l.jointB.subarray(u * d, (u + 1) * d), d, this.e, u * d);
      this.eValid[u] = 1;
    }
    return u * this.d;
  }

  private forward(u: number, i: number): number {
    return this.forwardWith(u, this.params.global.item, i * this.d);
  }

  /** Logit of user u against the item vector table[offset .. offset + d). */
  private forwardWith(u: number, table: Float32Array, offset: number): number {
    const { d } = this;
    const eo = this.joint(u);
    const x0 = this.acts[0];
    x0.set(this.e.subarray(eo, eo + d), 0);
    x0.set(table.subarray(offset, offset + d), d);
    for (let k = 0; k < this.W.length; k++) {
      const out = this.acts[k + 1];
      denseForward(this.acts[k], 0, this.widths[k], this.W[k], this.B[k], this.widths[k + 1], out, 0);
      for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
    }
    const last = this.acts[this.W.length];
    const outW = this.params.global['out.W'];
    let logit = this.params.global['out.b'][0];
    for (let j = 0; j < last.length; j++) logit += last[j] * outW[j];
    return logit;
  }

  score(u: number, i: number): number {
    return this.forward(u, i);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    for (let k = 0; k < items.length; k++) out[k] = this.forward(user, items[k]);
  }

  /** Scores of user u against n item vectors given as rows of `vectors` [n, d]. */
  scoreVectors(u: number, vectors: Float32Array, n: number, out: Float32Array): void {
    for (let k = 0; k < n; k++) out[k] = this.forwardWith(u, vectors, k * this.d);
  }

  backward(u: number, i: number, dScore: number, grads: Grads): void {
    this.forward(u, i);
    this.backwardFromActs(u, i, dScore, grads);
  }

  /** Fused forward + backward of a pointwise loss (the fitEpoch path); returns the example's loss. */
  pointwise(u: number, i: number, label: number, loss: PointwiseLoss, scale: number, grads: Grads): number {
    const s = this.forward(u, i);
    this.backwardFromActs(u, i, scale * pointwiseGrad(s, label, loss), grads);
    return pointwiseLoss(s, label, loss);
  }

  /** Backward through the activations the last forward pass left. */
  private backwardFromActs(u: number, i: number, dScore: number, grads: Grads): void {
    const { d } = this;
    const gv = grads.values;
    const nL = this.W.length;
    const last = this.acts[nL];
    const outW = this.params.global['out.W'];
    gv['out.b'][0] += dScore;
    const gOutW = gv['out.W'];
    const gLast = this.gradActs[nL];
    for (let j = 0; j < last.length; j++) {
      gOutW[j] += dScore * last[j];
      gLast[j] = nL > 0 && last[j] <= 0 ? 0 : dScore * outW[j];
    }
    for (let k = nL - 1; k >= 0; k--) {
      const gIn = this.gradActs[k];
      denseBackward(this.acts[k], 0, this.widths[k], this.W[k], this.widths[k + 1], this.gradActs[k + 1], 0, gv[`head${k}.W`], gv[`head${k}.b`], gIn, 0);
      if (k > 0) {
        const a = this.acts[k];
        for (let j = 0; j < gIn.length; j++) if (a[j] <= 0) gIn[j] = 0;
      }
    }
    const gx = this.gradActs[0];
    const gItem = gv.item;
    for (let f = 0; f < d; f++) {
      this.gE[u * d + f] += gx[f];
      gItem[i * d + f] += gx[d + f];
    }
    if (this.gEMark[u] === 0) {
      this.gEMark[u] = 1;
      this.gEUsers[this.gECount++] = u;
    }
    grads.touch('item', i);
  }

  /**
   * Batch hook: expand the deferred joint-layer gradients (∂L/∂W_u = v_u ⊗ ∂L/∂e_u, ∂L/∂b_u = ∂L/∂e_u),
   * add the λ term's gradient 2λ/n_g · (Q_r − R_r) on every row, and return the λ term's value.
   */
  endBatch(grads: Grads): number {
    const { T, d } = this;
    const gW = grads.values.jointW;
    const gB = grads.values.jointB;
    for (let k = 0; k < this.gECount; k++) {
      const u = this.gEUsers[k];
      const ge = this.gE.subarray(u * d, (u + 1) * d);
      for (let t = 0; t < T; t++) {
        const vt = this.texts[u * T + t];
        if (vt === 0) continue;
        const row = u * T * d + t * d;
        for (let f = 0; f < d; f++) gW[row + f] += vt * ge[f];
      }
      for (let f = 0; f < d; f++) gB[u * d + f] += ge[f];
      ge.fill(0);
      this.gEMark[u] = 0;
      grads.touch('jointW', u);
      grads.touch('jointB', u);
    }
    this.gECount = 0;
    this.eValid.fill(0); // the optimiser step that follows changes W and b
    return this.proximal && this.config.lambda > 0 ? this.addProximal(grads, this.proximal) : 0;
  }

  private addProximal(grads: Grads, proximal: Proximal): number {
    const { d } = this;
    const lambda = this.config.lambda;
    const q = this.params.global.item;
    const r = proximal.target;
    const g = grads.values.item;
    let value = 0;
    for (let grp = 0; grp + 1 < proximal.groups.length; grp++) {
      const from = proximal.groups[grp];
      const to = proximal.groups[grp + 1];
      if (to === from) continue;
      const scale = lambda / (to - from);
      for (let row = from; row < to; row++) {
        for (let k = row * d, end = k + d; k < end; k++) {
          const diff = q[k] - r[k];
          value += scale * diff * diff;
          g[k] += 2 * scale * diff;
        }
        grads.touch('item', row);
      }
    }
    return value;
  }
}
