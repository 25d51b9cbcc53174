/**
 * NeuMF (He et al., "Neural Collaborative Filtering", WWW 2017): a GMF branch (p_u ⊙ q_i) and an
 * MLP branch (ReLU tower over [p'_u, q'_i]) concatenated into one linear output logit.
 * Local: both user embeddings. Global: both item embeddings and every dense layer.
 * Tower layer k is 'mlp{k}.W' [in, out] and 'mlp{k}.b' [1, out]; the output is 'out.W' [dim+last, 1].
 */
import { Rng } from '../../math/rng.js';
import { denseBackward, denseForward, pointwiseGrad, pointwiseLoss } from '../../math/kernels.js';
import { checkParams, initParams, paramInfo } from '../params.js';
import { BatchedNeumf, batchedNeumfApplies } from './batched.js';
import type { Grads, ModelConfig, ParamInfo, Params, PointwiseLoss, RecModel } from '../types.js';

export const NEUMF_DEFAULT_LAYERS = [32, 16, 8] as const;

export function neumfParamInfo(nUsers: number, nItems: number, config: ModelConfig): ParamInfo[] {
  const mlpDim = config.mlpDim ?? config.dim;
  const layers = config.layers ?? NEUMF_DEFAULT_LAYERS;
  const info = [
    paramInfo('gmfUser', nUsers, config.dim, 'user'),
    paramInfo('mlpUser', nUsers, mlpDim, 'user'),
    paramInfo('gmfItem', nItems, config.dim, 'item'),
    paramInfo('mlpItem', nItems, mlpDim, 'item'),
  ];
  let width = 2 * mlpDim;
  layers.forEach((out, k) => {
    info.push(paramInfo(`mlp${k}.W`, width, out, 'dense'), paramInfo(`mlp${k}.b`, 1, out, 'dense'));
    width = out;
  });
  info.push(paramInfo('out.W', config.dim + width, 1, 'dense'), paramInfo('out.b', 1, 1, 'dense'));
  return info;
}

export class NeuMF implements RecModel {
  readonly info: ParamInfo[];
  readonly params: Params;
  private readonly dg: number;
  private readonly dm: number;
  private readonly widths: number[]; // [2*dm, layers...]
  private readonly W: Float32Array[];
  private readonly B: Float32Array[];
  // forward scratch: acts[0] = input concat, acts[k+1] = post-ReLU output of layer k
  private readonly acts: Float32Array[];
  private readonly gradActs: Float32Array[];
  private readonly gmf: Float32Array; // [dg]
  /** The batched path (MLP tower as SIMD matrix products), absent when it cannot run here. */
  private batched: BatchedNeumf | null = null;
  private users = new Int32Array(0);
  readonly pointwiseBatch?: (users: Int32Array, items: Int32Array, labels: Float32Array, start: number, end: number,
    loss: PointwiseLoss, scale: number, grads: Grads) => number;

  constructor(
    readonly config: ModelConfig,
    readonly nUsers: number,
    readonly nItems: number,
    params: Params | { seed: number },
  ) {
    this.info = neumfParamInfo(nUsers, nItems, config);
    this.params = 'seed' in params ? initParams(this.info, config.initStd ?? 0.01, new Rng(params.seed)) : params;
    checkParams(this.info, this.params);
    this.dg = config.dim;
    this.dm = config.mlpDim ?? config.dim;
    const layers = config.layers ?? NEUMF_DEFAULT_LAYERS;
    this.widths = [2 * this.dm, ...layers];
    this.W = layers.map((_, k) => this.params.global[`mlp${k}.W`]);
    this.B = layers.map((_, k) => this.params.global[`mlp${k}.b`]);
    this.acts = this.widths.map((w) => new Float32Array(w));
    this.gradActs = this.widths.map((w) => new Float32Array(w));
    this.gmf = new Float32Array(this.dg);
    const shape = { dg: this.dg, dm: this.dm, widths: this.widths };
    if (batchedNeumfApplies(shape)) {
      this.pointwiseBatch = (users, items, labels, start, end, loss, scale, grads) => {
        this.batched ??= new BatchedNeumf(shape);
        return this.batched.pointwise(this.params, users, items, labels, start, end, loss, scale, grads);
      };
    }
  }

  /** Forward pass leaving activations in scratch buffers; returns the logit. */
  private forward(u: number, i: number): number {
    const { dg, dm } = this;
    const g = this.params.global;
    const l = this.params.local;
    const pu = l.gmfUser;
    const qi = g.gmfItem;
    const outW = g['out.W'];
    let logit = g['out.b'][0];
    for (let f = 0; f < dg; f++) {
      const v = pu[u * dg + f] * qi[i * dg + f];
      this.gmf[f] = v;
      logit += v * outW[f];
    }
    const x0 = this.acts[0];
    x0.set(l.mlpUser.subarray(u * dm, u * dm + dm), 0);
    x0.set(g.mlpItem.subarray(i * dm, i * dm + dm), dm);
    for (let k = 0; k < this.W.length; k++) {
      const out = this.acts[k + 1];
      denseForward(this.acts[k], 0, this.widths[k], this.W[k], this.B[k], this.widths[k + 1], out, 0);
      for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
    }
    const last = this.acts[this.W.length];
    for (let j = 0; j < last.length; j++) logit += last[j] * outW[dg + j];
    return logit;
  }

  score(u: number, i: number): number {
    return this.forward(u, i);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    if (this.pointwiseBatch && items.length > 0) {
      if (this.users.length < items.length) this.users = new Int32Array(items.length);
      this.users.fill(user, 0, items.length);
      this.batched ??= new BatchedNeumf({ dg: this.dg, dm: this.dm, widths: this.widths });
      this.batched.scores(this.params, this.users, items, 0, items.length, out, 0);
      return;
    }
    for (let k = 0; k < items.length; k++) out[k] = this.forward(user, items[k]);
  }

  pointwise(u: number, i: number, label: number, loss: PointwiseLoss, scale: number, grads: Grads): number {
    const s = this.forward(u, i);
    this.backwardFromForward(u, i, scale * pointwiseGrad(s, label, loss), grads);
    return pointwiseLoss(s, label, loss);
  }

  backward(u: number, i: number, dScore: number, grads: Grads): void {
    this.forward(u, i);
    this.backwardFromForward(u, i, dScore, grads);
  }

  /** Backward pass using the activations the last forward(u, i) left in the scratch buffers. */
  private backwardFromForward(u: number, i: number, dScore: number, grads: Grads): void {
    const { dg, dm } = this;
    const g = this.params.global;
    const l = this.params.local;
    const gv = grads.values;
    const outW = g['out.W'];
    const nL = this.W.length;
    const last = this.acts[nL];
    // output layer
    gv['out.b'][0] += dScore;
    const gOutW = gv['out.W'];
    for (let f = 0; f < dg; f++) gOutW[f] += dScore * this.gmf[f];
    for (let j = 0; j < last.length; j++) gOutW[dg + j] += dScore * last[j];
    // GMF branch
    const gPu = gv.gmfUser;
    const gQi = gv.gmfItem;
    for (let f = 0; f < dg; f++) {
      const gf = dScore * outW[f];
      gPu[u * dg + f] += gf * g.gmfItem[i * dg + f];
      gQi[i * dg + f] += gf * l.gmfUser[u * dg + f];
    }
    // MLP tower, top down
    const gLast = this.gradActs[nL];
    for (let j = 0; j < last.length; j++) gLast[j] = last[j] > 0 ? dScore * outW[dg + j] : 0;
    for (let k = nL - 1; k >= 0; k--) {
      const gIn = this.gradActs[k];
      denseBackward(this.acts[k], 0, this.widths[k], this.W[k], this.widths[k + 1], this.gradActs[k + 1], 0,
        gv[`mlp${k}.W`], gv[`mlp${k}.b`], gIn, 0);
      if (k > 0) {
        const a = this.acts[k];
        for (let j = 0; j < gIn.length; j++) if (a[j] <= 0) gIn[j] = 0;
      }
    }
    const gx = this.gradActs[0];
    const gMu = gv.mlpUser;
    const gMi = gv.mlpItem;
    for (let f = 0; f < dm; f++) {
      gMu[u * dm + f] += gx[f];
      gMi[i * dm + f] += gx[dm + f];
    }
    grads.touchUser(u);
    grads.touchItem(i);
  }
}
