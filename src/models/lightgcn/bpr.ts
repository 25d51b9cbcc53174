/**
 * LightGCN's training objective on one minibatch (He et al., SIGIR 2020): mean BPR over
 * (user, positive, negative) triples on the scoring representations, plus
 * reg · Σ‖e(0)‖² / (2·B) over the batch's layer-0 rows (each occurrence counted, as in RecBole).
 * Representations and gradients are passed as arrays indexed by graph node, so the same code
 * serves the whole graph (central) and a client's ego-graph (federated).
 */
import { bpr } from '../../math/kernels.js';

/** A representation table [nNodes, dim] and the array its gradient accumulates into. */
export interface Rep {
  readonly values: Float32Array;
  readonly grad: Float32Array;
}

export interface BprBatch {
  /** Node ids of users, positive items and negative items; the batch is entries [start, end). */
  readonly users: Int32Array;
  readonly positives: Int32Array;
  readonly negatives: Int32Array;
  readonly start: number;
  readonly end: number;
}

/**
 * Returns the batch loss (mean BPR + L2) and accumulates its gradient: scores use `user` and
 * `item` representations; the L2 term uses `layer0`.
 */
export function bprLoss(batch: BprBatch, dim: number, user: Rep, item: Rep, layer0: Rep, reg: number): number {
  const { users, positives, negatives, start, end } = batch;
  const size = end - start;
  if (size <= 0) throw new RangeError(`bprLoss: empty batch [${start}, ${end})`);
  const inv = 1 / size;
  const U = user.values;
  const I = item.values;
  const gU = user.grad;
  const gI = item.grad;
  const E = layer0.values;
  const gE = layer0.grad;
  const regScale = reg * inv;
  let loss = 0;
  for (let b = start; b < end; b++) {
    const uo = users[b] * dim;
    const po = positives[b] * dim;
    const no = negatives[b] * dim;
    let diff = 0;
    for (let f = 0; f < dim; f++) diff += U[uo + f] * (I[po + f] - I[no + f]);
    const r = bpr(diff);
    const g = r.grad * inv;
    let sq = 0;
    for (let f = 0; f < dim; f++) {
      const u = U[uo + f];
      gU[uo + f] += g * (I[po + f] - I[no + f]);
      gI[po + f] += g * u;
      gI[no + f] -= g * u;
      const eu = E[uo + f];
      const ep = E[po + f];
      const en = E[no + f];
      sq += eu * eu + ep * ep + en * en;
      gE[uo + f] += regScale * eu;
      gE[po + f] += regScale * ep;
      gE[no + f] += regScale * en;
    }
    loss += r.loss * inv + 0.5 * regScale * sq;
  }
  return loss;
}
