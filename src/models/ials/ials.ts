/**
 * The implicit-ALS model (Hu, Koren & Volinsky, ICDM 2008; Rendle et al., RecSys 2022):
 * s(u, i) = w_u·h_i, no biases. Local: the user factors W ('userEmb'). Global: the item factors H
 * ('itemEmb') and the Gramian of the user factors Σ_u w_u·w_uᵀ ('userGramian', dim × dim), which
 * federated iALS aggregates from the devices each round (federated/ials.ts) and the server's item
 * step reads; scoring never uses it. Trained by closed-form solves (models/ials/solve.ts), not by
 * gradients; `backward` exists for the `RecModel` contract (gradient of the score).
 */
import { Rng } from '../../math/rng.js';
import { dot, pointwiseGrad, pointwiseLoss, bceWithLogits } from '../../math/kernels.js';
import { checkParams, initParams, paramInfo } from '../params.js';
import type { Grads, ModelConfig, ParamInfo, Params, PointwiseLoss, RecModel } from '../types.js';

export function ialsParamInfo(nUsers: number, nItems: number, dim: number): ParamInfo[] {
  return [paramInfo('userEmb', nUsers, dim, 'user'), paramInfo('itemEmb', nItems, dim, 'item'), paramInfo('userGramian', dim, dim, 'dense')];
}

/** Rendle et al.'s initialisation: factors ~ N(0, (0.1 / √dim)²). */
export function ialsInitStd(dim: number): number {
  return 0.1 / Math.sqrt(dim);
}

export class IalsModel implements RecModel {
  readonly info: ParamInfo[];
  readonly params: Params;
  private readonly dim: number;
  private readonly W: Float32Array;
  private readonly H: Float32Array;

  constructor(
    readonly config: ModelConfig,
    readonly nUsers: number,
    readonly nItems: number,
    params: Params | { seed: number },
  ) {
    this.dim = config.dim;
    this.info = ialsParamInfo(nUsers, nItems, config.dim);
    this.params = 'seed' in params ? initParams(this.info, config.initStd ?? ialsInitStd(config.dim), new Rng(params.seed)) : params;
    checkParams(this.info, this.params);
    this.W = this.params.local.userEmb;
    this.H = this.params.global.itemEmb;
  }

  score(u: number, i: number): number {
    return dot(this.W, u * this.dim, this.H, i * this.dim, this.dim);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    const d = this.dim;
    const W = this.W;
    const H = this.H;
    const uo = user * d;
    for (let k = 0; k < items.length; k++) {
      const io = items[k] * d;
      let s = 0;
      for (let f = 0; f < d; f++) s += W[uo + f] * H[io + f];
      out[k] = s;
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
    const gW = grads.values.userEmb;
    const gH = grads.values.itemEmb;
    const uo = u * d;
    const io = i * d;
    for (let f = 0; f < d; f++) {
      gW[uo + f] += dScore * this.H[io + f];
      gH[io + f] += dScore * this.W[uo + f];
    }
    grads.touchUser(u);
    grads.touchItem(i);
  }
}
