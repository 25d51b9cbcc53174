/**
 * The user relation graph of UFGraphFR (Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044,
 * §3.4) / GPFedRec (Zhang et al., KDD 2024), from unit-norm user vectors (vec(W_u) or its sketch):
 *  1. S_ij = cos(w_i, w_j) — a cosine SIMILARITY (the public code uses cosine distance and so links
 *     the least similar users; not here);
 *  2. S' keeps each user's top-N most similar other users (edges with S_ij ≤ 0 are dropped, they
 *     cannot be averaging weights), plus a self-loop of weight 1 when asked;
 *  3. S'' normalises S': 'row' → D_r^-1 S' (each row a weighted mean); 'sym' → D_r^-1/2 S' D_c^-1/2
 *     (LightGCN-style, with row and column sums of the directed top-N graph). A user left with no
 *     edge keeps its own table (S''_ii = 1);
 *  4. degree d_i = row sum + column sum of S' (weighted degree of the undirected graph): the
 *     weights of the global table (Eq. 17).
 * Top-N search visits each unordered pair once and keeps per-user min-heaps: O(n²·width) time
 * (the dot products in WebAssembly SIMD, math/wasm/gram-kernels.ts, float32 sums), O(n·N) memory
 * besides one copy of the vectors.
 */
import { GramBlocks } from '../math/wasm/gram-kernels.js';

export type GraphNorm = 'row' | 'sym';

const TILE = 64;

/** Sparse S'' in CSR form over nodes 0..n-1, and node degrees. */
export interface UserGraph {
  readonly n: number;
  readonly indptr: Int32Array; // [n + 1]
  readonly indices: Int32Array; // [nnz]
  readonly weights: Float32Array; // [nnz]
  readonly degree: Float64Array; // [n]
}

export interface Neighbours {
  /** Neighbour node per slot, -1 when empty: [n, N]. */
  readonly index: Int32Array;
  /** Similarity per slot: [n, N]. */
  readonly sim: Float32Array;
}

/** Top-N most similar other nodes of each of n unit-norm vectors [n, width]. */
export function topNeighbours(vectors: Float32Array, n: number, width: number, N: number): Neighbours {
  const index = new Int32Array(n * N).fill(-1);
  const sim = new Float32Array(n * N).fill(-Infinity);
  const size = new Int32Array(n);
  if (N === 0) return { index, sim };
  // the similarity a candidate must beat to enter node i's heap: −∞ until it is full, then its
  // smallest (the same test as `size[i] < N || s > sim[i·N]`, read from one array)
  const bar = new Float32Array(n).fill(-Infinity);
  const push = (i: number, j: number, s: number) => {
    push1(i, j, s);
    if (size[i] === N) bar[i] = sim[i * N];
  };
  const push1 = (i: number, j: number, s: number) => {
    const base = i * N;
    if (size[i] < N) {
      let k = size[i]++;
      while (k > 0) {
        const parent = (k - 1) >> 1;
        if (sim[base + parent] <= s) break;
        sim[base + k] = sim[base + parent];
        index[base + k] = index[base + parent];
        k = parent;
      }
      sim[base + k] = s;
      index[base + k] = j;
      return;
    }
    if (s <= sim[base]) return;
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= N) break;
      const r = l + 1;
      const c = r < N && sim[base + r] < sim[base + l] ? r : l;
      if (sim[base + c] >= s) break;
      sim[base + k] = sim[base + c];
      index[base + k] = index[base + c];
      k = c;
    }
    sim[base + k] = s;
    index[base + k] = j;
  };
  // Tiles of TILE × TILE pairs: the dot products of a tile come from the SIMD kernel, then each
  // pair (i < j) is offered to both heaps.
  const gram = new GramBlocks(vectors, n, width, TILE);
  for (let ib = 0; ib < n; ib += TILE) {
    const iEnd = Math.min(n, ib + TILE);
    for (let jb = ib; jb < n; jb += TILE) {
      const jEnd = Math.min(n, jb + TILE);
      const block = gram.block(ib, iEnd, jb, jEnd);
      const cols = jEnd - jb;
      for (let i = ib; i < iEnd; i++) {
        const row = (i - ib) * cols - jb;
        let barI = bar[i];
        for (let j = Math.max(jb, i + 1); j < jEnd; j++) {
          const s = block[row + j];
          if (s <= 0) continue;
          if (s > barI) {
            push(i, j, s);
            barI = bar[i];
          }
          if (s > bar[j]) push(j, i, s);
        }
      }
    }
  }
  return { index, sim };
}

export function buildUserGraph(neighbours: Neighbours, n: number, N: number, options: { selfLoop: boolean; norm: GraphNorm }): UserGraph {
  const indptr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    if (options.selfLoop) {
      cols.push(i);
      vals.push(1);
    }
    for (let k = 0; k < N; k++) {
      const j = neighbours.index[i * N + k];
      if (j < 0) continue;
      cols.push(j);
      vals.push(neighbours.sim[i * N + k]);
    }
    indptr[i + 1] = cols.length;
  }
  const indices = Int32Array.from(cols);
  const raw = Float64Array.from(vals);
  const rowSum = new Float64Array(n);
  const colSum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let e = indptr[i]; e < indptr[i + 1]; e++) {
      rowSum[i] += raw[e];
      colSum[indices[e]] += raw[e];
    }
  }
  const weights = new Float32Array(raw.length);
  for (let i = 0; i < n; i++) {
    for (let e = indptr[i]; e < indptr[i + 1]; e++) {
      const j = indices[e];
      weights[e] = options.norm === 'row' ? raw[e] / rowSum[i] : raw[e] / Math.sqrt(rowSum[i] * colSum[j]);
    }
  }
  const degree = Float64Array.from(rowSum, (r, i) => r + colSum[i] || 1);
  // A node without edges keeps its own table.
  const lonely: number[] = [];
  for (let i = 0; i < n; i++) if (indptr[i + 1] === indptr[i]) lonely.push(i);
  if (lonely.length === 0) return { n, indptr, indices, weights, degree };
  const out = { indptr: new Int32Array(n + 1), indices: [] as number[], weights: [] as number[] };
  for (let i = 0; i < n; i++) {
    if (indptr[i + 1] === indptr[i]) {
      out.indices.push(i);
      out.weights.push(1);
    } else {
      for (let e = indptr[i]; e < indptr[i + 1]; e++) {
        out.indices.push(indices[e]);
        out.weights.push(weights[e]);
      }
    }
    out.indptr[i + 1] = out.indices.length;
  }
  return { n, indptr: out.indptr, indices: Int32Array.from(out.indices), weights: Float32Array.from(out.weights), degree };
}
