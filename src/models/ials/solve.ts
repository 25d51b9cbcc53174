/**
 * The closed-form solves of implicit ALS (Hu, Koren & Volinsky, ICDM 2008) in the form of Rendle
 * et al., "Revisiting the Performance of iALS on Item Recommendation Benchmarks" (RecSys 2022):
 *
 *   L(W, H) = Σ_{(u,i) observed} (w_u·h_i − 1)² + α₀ Σ_u Σ_i (w_u·h_i)²
 *             + λ (Σ_u (|I_u| + α₀|I|)^ν ‖w_u‖² + Σ_i (|U_i| + α₀|U|)^ν ‖h_i‖²)
 *
 * Every pair (u, i) carries the unobserved weight α₀ and an observed pair in addition the target 1.
 * With the other side fixed, one row's minimiser is
 *   w_u = (α₀·G_H + Σ_{i∈I_u} h_i·h_iᵀ + λ_u·I)⁻¹ · Σ_{i∈I_u} h_i,   G_H = Σ_i h_i·h_iᵀ
 * (the "Gramian trick": the sum over all items costs one dim × dim Gramian, not |I| terms), solved
 * by Cholesky in float64. Items are solved the same way against the user factors.
 */
import { solveSpd } from '../../math/cholesky.js';
import type { UserItems } from '../../data/types.js';

/** iALS hyper-parameters: unobserved weight α₀, regularisation λ and its frequency exponent ν. */
export interface IalsHyper {
  readonly unobservedWeight: number;
  readonly reg: number;
  readonly regExponent: number;
}

/** Gramian Σ_r x_r·x_rᵀ of the rows of a [rows, dim] table, full and symmetric, in float64. */
export function gramian(table: Float32Array, dim: number): Float64Array {
  const g = new Float64Array(dim * dim);
  const rows = table.length / dim;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let a = 0; a < dim; a++) {
      const xa = table[o + a];
      if (xa === 0) continue;
      const ga = a * dim;
      for (let b = 0; b <= a; b++) g[ga + b] += xa * table[o + b];
    }
  }
  symmetrise(g, dim);
  return g;
}

/** Copy the lower triangle onto the upper one. */
export function symmetrise(g: Float64Array, dim: number): void {
  for (let a = 0; a < dim; a++) for (let b = a + 1; b < dim; b++) g[a * dim + b] = g[b * dim + a];
}

/** Rendle et al.'s frequency-scaled regularisation of a row observed `count` times out of `total`: λ·(count + α₀·total)^ν. */
export function rowReg(h: IalsHyper, count: number, total: number): number {
  return h.reg * Math.pow(count + h.unobservedWeight * total, h.regExponent);
}

/**
 * One row's closed-form solution x = (α₀·G + Σ_{j∈observed} c_j·y_j·y_jᵀ + reg·I)⁻¹ · Σ_{j∈observed} c_j·y_j,
 * with y_j the rows of `other` ([n, dim]) and G their Gramian; c_j is the observed pair's
 * confidence (`confidence[k]` aligned with `observed`, 1 when absent: Hu et al.'s c_ui, here
 * from recency). Written into `out` (float64, dim).
 */
export function solveRow(other: Float32Array, dim: number, observed: Int32Array, gram: Float64Array, unobservedWeight: number, reg: number, out: Float64Array, confidence?: Float32Array | null): Float64Array {
  const a = new Float64Array(dim * dim);
  for (let k = 0; k < a.length; k++) a[k] = unobservedWeight * gram[k];
  for (let f = 0; f < dim; f++) a[f * dim + f] += reg;
  out.fill(0);
  for (let k = 0; k < observed.length; k++) {
    const o = observed[k] * dim;
    const c = confidence ? confidence[k] : 1;
    for (let p = 0; p < dim; p++) {
      const yp = c * other[o + p];
      out[p] += yp;
      if (yp === 0) continue;
      const ap = p * dim;
      for (let q = 0; q <= p; q++) a[ap + q] += yp * other[o + q];
    }
  }
  return solveSpd(a, dim, out);
}

/**
 * Solve every row of `target` ([rows.indptr.length − 1, dim]) against `other` ([n, dim]): row r is
 * observed with `rows`' r-th list (confidences in `rows.values` when present); the count behind
 * its regularisation is out of the rows of `other` (|I| for users, |U| for items). Rows are
 * written as float32.
 */
export function solveAllRows(target: Float32Array, other: Float32Array, dim: number, rows: UserItems, h: IalsHyper): void {
  const gram = gramian(other, dim);
  const total = other.length / dim;
  const x = new Float64Array(dim);
  const n = rows.indptr.length - 1;
  for (let r = 0; r < n; r++) {
    const observed = rows.indices.subarray(rows.indptr[r], rows.indptr[r + 1]);
    const confidence = rows.values?.subarray(rows.indptr[r], rows.indptr[r + 1]);
    solveRow(other, dim, observed, gram, h.unobservedWeight, rowReg(h, observed.length, total), x, confidence);
    for (let f = 0; f < dim; f++) target[r * dim + f] = x[f];
  }
}

/**
 * The iALS objective L(W, H) above, for reporting: the observed (times their confidence in
 * `train.values`, when present) and unobserved squared errors and the scaled regularisation, over
 * the users of `train` (rows of W) and every item.
 */
export function ialsObjective(W: Float32Array, H: Float32Array, dim: number, train: UserItems, itemCounts: Int32Array, h: IalsHyper): number {
  const nUsers = train.indptr.length - 1;
  const nItems = H.length / dim;
  const gH = gramian(H, dim);
  let loss = 0;
  for (let u = 0; u < nUsers; u++) {
    const wo = u * dim;
    let quad = 0;
    let norm = 0;
    for (let a = 0; a < dim; a++) {
      let s = 0;
      for (let b = 0; b < dim; b++) s += gH[a * dim + b] * W[wo + b];
      quad += W[wo + a] * s;
      norm += W[wo + a] * W[wo + a];
    }
    const start = train.indptr[u];
    const end = train.indptr[u + 1];
    for (let k = start; k < end; k++) {
      const io = train.indices[k] * dim;
      let s = 0;
      for (let f = 0; f < dim; f++) s += W[wo + f] * H[io + f];
      loss += (train.values ? train.values[k] : 1) * (s - 1) * (s - 1);
    }
    loss += h.unobservedWeight * quad + rowReg(h, end - start, nItems) * norm;
  }
  for (let i = 0; i < nItems; i++) {
    let norm = 0;
    for (let f = 0; f < dim; f++) norm += H[i * dim + f] * H[i * dim + f];
    loss += rowReg(h, itemCounts[i], nUsers) * norm;
  }
  return loss;
}
