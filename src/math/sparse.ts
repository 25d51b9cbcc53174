/**
 * Sparse kernels for graph models (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022):
 * compressed sparse rows (CSR) over Float32Array, the symmetric-normalised adjacency
 * `D^-1/2 A D^-1/2` of a user–item bipartite graph, and sparse × dense products with their
 * backward. Dense matrices are row-major [rows, dim]. Callers allocate outputs.
 */
import { kernelHeap, roundUp, type KernelHeap } from './wasm/heap.js';
import { SPMM_COLS } from './wasm/kernels.js';

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
 * out[nRows, dim] = A · X, X: [nCols, dim]. `out` must not alias X. Runs as the WebAssembly SIMD
 * kernel (`wasm/kernels.ts`) on copies with rows padded to a multiple of 32 floats; A stays pinned
 * in the kernel heap, so repeated products with the same graph copy it once.
 */
export function spmm(a: Csr, x: Float32Array, dim: number, out: Float32Array): void {
  checkShapes('spmm', a.nCols, a.nRows, x, dim, out);
  const heap = kernelHeap();
  heap.frame();
  const csr = heap.pinned(a, () => placeCsr(heap, a));
  const cols = roundUp(dim, SPMM_COLS);
  const xAt = heap.alloc(4 * a.nCols * cols);
  const outAt = heap.alloc(4 * a.nRows * cols);
  copyRows(x, dim, heap.f32(xAt, a.nCols * cols), cols);
  heap.spmm(csr, a.nRows, a.indptr[a.nRows], cols, xAt, outAt);
  copyRows(heap.f32(outAt, a.nRows * cols), cols, out, dim);
}

function placeCsr(heap: KernelHeap, a: Csr): { indptr: number; indices: number; values: number } {
  const nnz = a.indptr[a.nRows];
  const at = { indptr: heap.alloc(4 * (a.nRows + 1)), indices: heap.alloc(4 * nnz), values: heap.alloc(4 * nnz) };
  heap.i32(at.indptr, a.nRows + 1).set(a.indptr);
  heap.i32(at.indices, nnz).set(a.indices.subarray(0, nnz));
  heap.f32(at.values, nnz).set(a.values.subarray(0, nnz));
  return at;
}

/** Copies the rows of `from` (row length fromCols) into `to` (row length toCols), zero-padding or truncating. */
function copyRows(from: Float32Array, fromCols: number, to: Float32Array, toCols: number): void {
  if (fromCols === toCols) {
    to.set(from);
    return;
  }
  const rows = from.length / fromCols;
  const width = Math.min(fromCols, toCols);
  if (toCols > fromCols) to.fill(0);
  for (let r = 0; r < rows; r++) to.set(from.subarray(r * fromCols, r * fromCols + width), r * toCols);
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
