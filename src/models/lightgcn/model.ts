/**
 * LightGCN (He et al., SIGIR 2020) over one bipartite graph: the layer-0 node embeddings
 * E(0) [nUsers + nItems, dim] (users first, then items), their propagation, and export of the
 * trained model for scoring. The propagated embeddings score by a plain dot product, so the
 * trained model is exported as an MF model (userEmb = ū, itemEmb = ī, zero biases): evaluation,
 * saving and recommending then reuse the MF code paths unchanged.
 */
import { fillUniform } from '../../math/kernels.js';
import { Rng } from '../../math/rng.js';
import { normalizedBipartite, type BipartiteRows } from '../../math/sparse.js';
import { createModel } from '../registry.js';
import type { RecModel } from '../types.js';
import { Propagation } from './propagation.js';

export interface LightGcnShape {
  readonly nUsers: number;
  readonly nItems: number;
  readonly dim: number;
  /** L: layers averaged into the final embedding. */
  readonly layers: number;
  /** Layers computed (≥ L); NCL needs 2k. Default L. */
  readonly depth?: number;
}

export class LightGcn {
  readonly nUsers: number;
  readonly nItems: number;
  readonly dim: number;
  /** Layer-0 embeddings: [nUsers + nItems, dim]. */
  readonly e0: Float32Array;
  readonly propagation: Propagation;

  /** `rows`: each user's training items (the graph's edges); `e0` defaults to Xavier-uniform per table. */
  constructor(shape: LightGcnShape, rows: BipartiteRows, init: { seed: number } | { e0: Float32Array }) {
    const { nUsers, nItems, dim, layers } = shape;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.dim = dim;
    const size = (nUsers + nItems) * dim;
    if ('e0' in init) {
      if (init.e0.length !== size) throw new RangeError(`LightGcn: e0 has ${init.e0.length} values, expected (${nUsers} + ${nItems})×${dim}`);
      this.e0 = init.e0;
    } else {
      this.e0 = xavierTables(nUsers, nItems, dim, Rng.derive(init.seed, 'lightgcn-init'));
    }
    this.propagation = new Propagation(normalizedBipartite(nUsers, nItems, rows), dim, layers, shape.depth ?? layers);
  }

  get userEmb(): Float32Array {
    return this.e0.subarray(0, this.nUsers * this.dim);
  }

  get itemEmb(): Float32Array {
    return this.e0.subarray(this.nUsers * this.dim);
  }

  forward(): void {
    this.propagation.forward(this.e0);
  }

  /** Propagates the current E(0) and exports ū·ī as an MF model. */
  toScoringModel(): RecModel {
    this.forward();
    const final = this.propagation.final;
    const split = this.nUsers * this.dim;
    return dotProductModel(this.nUsers, this.nItems, this.dim, final.slice(0, split), final.slice(split));
  }
}

/** An MF model scoring ⟨userEmb[u], itemEmb[i]⟩ exactly (all biases zero). */
export function dotProductModel(nUsers: number, nItems: number, dim: number, userEmb: Float32Array, itemEmb: Float32Array): RecModel {
  return createModel({ kind: 'mf', dim }, nUsers, nItems, {
    global: { itemEmb, itemBias: new Float32Array(nItems), globalBias: new Float32Array(1) },
    local: { userEmb, userBias: new Float32Array(nUsers) },
  });
}

/** Xavier-uniform user table [nUsers, dim] followed by item table [nItems, dim] (RecBole's init). */
export function xavierTables(nUsers: number, nItems: number, dim: number, rng: Rng): Float32Array {
  const e0 = new Float32Array((nUsers + nItems) * dim);
  fillUniform(e0.subarray(0, nUsers * dim), Math.sqrt(6 / (nUsers + dim)), rng);
  fillUniform(e0.subarray(nUsers * dim), Math.sqrt(6 / (nItems + dim)), rng);
  return e0;
}
