/**
 * Matrix factorisation (Koren, Bell & Volinsky 2009): s(u,i) = p_u·q_i + b_u + b_i + g.
 * Local: user factors p and user bias b_u. Global: item factors q, item bias b_i, global offset g.
 * The score is a logit for implicit feedback or a rating prediction for explicit feedback.
 */
import { Rng } from '../../math/rng.js';
import { bceWithLogits, dot, pointwiseGrad, pointwiseLoss } from '../../math/kernels.js';
import { checkParams, initParams, paramInfo } from '../params.js';
import type { Grads, ModelConfig, ParamInfo, Params, PointwiseLoss, RecModel } from '../types.js';

export function mfParamInfo(nUsers: number, nItems: number, dim: number): ParamInfo[] {
  return [
    paramInfo('userEmb', nUsers, dim, 'user'),
    paramInfo('userBias', nUsers, 1, 'user'),
    paramInfo('itemEmb', nItems, dim, 'item'),
    paramInfo('itemBias', nItems, 1, 'item'),
    paramInfo('globalBias', 1, 1, 'dense'),
  ];
}

export class MatrixFactorization implements RecModel {
  readonly info: ParamInfo[];
  readonly params: Params;
  private readonly dim: number;
  private readonly P: Float32Array; // [nUsers, dim]
  private readonly bu: Float32Array; // [nUsers]
  private readonly Q: Float32Array; // [nItems, dim]
  private readonly bi: Float32Array; // [nItems]
  private readonly g: Float32Array; // [1]

  constructor(
    readonly config: ModelConfig,
    readonly nUsers: number,
    readonly nItems: number,
    params: Params | { seed: number },
  ) {
    this.dim = config.dim;
    this.info = mfParamInfo(nUsers, nItems, config.dim);
    this.params = 'seed' in params ? initParams(this.info, config.initStd ?? 0.01, new Rng(params.seed)) : params;
    checkParams(this.info, this.params);
    this.P = this.params.local.userEmb;
    this.bu = this.params.local.userBias;
    this.Q = this.params.global.itemEmb;
    this.bi = this.params.global.itemBias;
    this.g = this.params.global.globalBias;
  }

  score(u: number, i: number): number {
    const d = this.dim;
    return dot(this.P, u * d, this.Q, i * d, d) + this.bu[u] + this.bi[i] + this.g[0];
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    const d = this.dim;
    const P = this.P;
    const Q = this.Q;
    const uo = user * d;
    const base = this.bu[user] + this.g[0];
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      const io = i * d;
      let s = 0;
      for (let f = 0; f < d; f++) s += P[uo + f] * Q[io + f];
      out[k] = s + base + this.bi[i];
    }
  }

  pointwise(u: number, i: number, label: number, loss: PointwiseLoss, scale: number, grads: Grads): number {
    const s = this.score(u, i);
    if (loss === 'bce') {
      const { loss: l, grad } = bceWithLogits(s, label);
      this.backward(u, i, scale * grad, grads);
      return l;
    }
    this.backward(u, i, scale * pointwiseGrad(s, label, loss), grads);
    return pointwiseLoss(s, label, loss);
  }

  backward(u: number, i: number, dScore: number, grads: Grads): void {
    const d = this.dim;
    const gv = grads.values;
    const gP = gv.userEmb;
    const gQ = gv.itemEmb;
    const uo = u * d;
    const io = i * d;
    for (let f = 0; f < d; f++) {
      gP[uo + f] += dScore * this.Q[io + f];
      gQ[io + f] += dScore * this.P[uo + f];
    }
    gv.userBias[u] += dScore;
    gv.itemBias[i] += dScore;
    gv.globalBias[0] += dScore;
    grads.touchUser(u);
    grads.touchItem(i);
  }
}
