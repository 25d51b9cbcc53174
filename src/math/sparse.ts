/**
 * Sparse kernels for graph models (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022):
 * compressed sparse rows (CSR) over Float32Array, the symmetric-normalised adjacency
 * `D^-1/2 A D^-1/2` of a user–item bipartite graph, and sparse × dense products with their
 * backward. Dense matrices are row-major [rows, dim]. Callers allocate outputs.
 */

/** Sparse matrix [nRows, nCols]: row r holds (indices[k], values[k]) for k in indptr[r] .. indptr[r+1]). */
export interface Csr {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: Int32Array; // [nRows + 1]
  readonly indices: Int32Array; // [nnz]
  readonly values: Float32Array; // [nnz]
}

/** One bipartite edge list: user u's items are items[indptr[u] .. indptr[u+1]) (the `UserItems` layout). */
export interface BipartiteRows {
  readonly indptr: Int32Array; // [nUsers + 1]
  readonly indices: Int32Array; // [nnz], item ids in [0, nItems)
}

/**
 * The symmetric-normalised adjacency of the bipartite graph over n = nUsers + nItems nodes: users
 * are nodes 0..nUsers-1, item i is node nUsers + i. Entry (u, i) = (i, u) = 1/sqrt(deg(u)·deg(i)).
 * Isolated nodes have empty rows. Pairs must be unique per user. Shape [n, n], nnz = 2·edges.
 */
export function normalizedBipartite(nUsers: number, nItems: number, rows: BipartiteRows): Csr {
  if (rows.indptr.length !== nUsers + 1) {
    throw new RangeError(`normalizedBipartite: indptr has ${rows.indptr.length} entries, expected nUsers + 1 = ${nUsers + 1}`);
  }
  const edges = rows.indptr[nUsers];
  const itemDegree = new Int32Array(nItems);
  for (let k = 0; k < edges; k++) {
    const i = rows.indices[k];
    if (!(i >= 0 && i < nItems)) throw new RangeError(`normalizedBipartite: item ${i} outside [0, ${nItems})`);
    itemDegree[i]++;
  }
  const n = nUsers + nItems;
  const indptr = new Int32Array(n + 1);
  for (let u = 0; u < nUsers; u++) indptr[u + 1] = rows.indptr[u + 1] - rows.indptr[u];
  for (let i = 0; i < nItems; i++) indptr[nUsers + i + 1] = itemDegree[i];
  for (let r = 0; r < n; r++) indptr[r + 1] += indptr[r];
  const indices = new Int32Array(2 * edges);
  const values = new Float32Array(2 * edges);
  const next = indptr.slice(nUsers, n); // write cursor per item row
  for (let u = 0; u < nUsers; u++) {
    const lo = rows.indptr[u];
    const hi = rows.indptr[u + 1];
    const invSqrtU = 1 / Math.sqrt(hi - lo);
    for (let k = lo; k < hi; k++) {
      const i = rows.indices[k];
      const w = invSqrtU / Math.sqrt(itemDegree[i]);
      const at = indptr[u] + (k - lo);
      indices[at] = nUsers + i;
      values[at] = w;
      const back = next[i]++;
      indices[back] = u; // users visited in ascending order: item rows stay sorted
      values[back] = w;
    }
  }
  return { nRows: n, nCols: n, indptr, indices, values };
}

/**
 * out[nRows, dim] = A · X, X: [nCols, dim]. `out` must not alias X. Eight output columns are
 * accumulated in locals per pass over a row's entries (2–3× faster in V8 than updating `out`
 * entry by entry); columns beyond a multiple of 8 take a plain loop.
 */
export function spmm(a: Csr, x: Float32Array, dim: number, out: Float32Array): void {
  checkShapes('spmm', a.nCols, a.nRows, x, dim, out);
  const { indptr, indices, values } = a;
  const wide = dim - (dim % 8);
  for (let r = 0; r < a.nRows; r++) {
    const o = r * dim;
    const lo = indptr[r];
    const hi = indptr[r + 1];
    for (let f = 0; f < wide; f += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let k = lo; k < hi; k++) {
        const w = values[k];
        const c = indices[k] * dim + f;
        s0 += w * x[c];
        s1 += w * x[c + 1];
        s2 += w * x[c + 2];
        s3 += w * x[c + 3];
        s4 += w * x[c + 4];
        s5 += w * x[c + 5];
        s6 += w * x[c + 6];
        s7 += w * x[c + 7];
      }
      out[o + f] = s0;
      out[o + f + 1] = s1;
      out[o + f + 2] = s2;
      out[o + f + 3] = s3;
      out[o + f + 4] = s4;
      out[o + f + 5] = s5;
      out[o + f + 6] = s6;
      out[o + f + 7] = s7;
    }
    for (let f = wide; f < dim; f++) {
      let s = 0;
      for (let k = lo; k < hi; k++) s += values[k] * x[indices[k] * dim + f];
      out[o + f] = s;
    }
  }
}

/**
 * Backward of `Y = A · X`: gX[nCols, dim] += Aᵀ · gY. For a symmetric A (the normalised adjacency)
 * this equals A · gY, so trainers may call `spmm` instead; this form is correct for any A.
 */
export function spmmBackward(a: Csr, gY: Float32Array, dim: number, gX: Float32Array): void {
  checkShapes('spmmBackward', a.nRows, a.nCols, gY, dim, gX);
  const { indptr, indices, values } = a;
  for (let r = 0; r < a.nRows; r++) {
    const g = r * dim;
    for (let k = indptr[r], end = indptr[r + 1]; k < end; k++) {
      const w = values[k];
      const c = indices[k] * dim;
      for (let f = 0; f < dim; f++) gX[c + f] += w * gY[g + f];
    }
  }
}

function checkShapes(name: string, inRows: number, outRows: number, x: Float32Array, dim: number, out: Float32Array): void {
  if (x.length !== inRows * dim) throw new RangeError(`${name}: input has ${x.length} values, expected ${inRows}×${dim}`);
  if (out.length !== outRows * dim) throw new RangeError(`${name}: output has ${out.length} values, expected ${outRows}×${dim}`);
}
