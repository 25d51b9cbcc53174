/**
 * k-means (Lloyd's iterations) with seeded k-means++ initialisation (Arthur & Vassilvitskii 2007),
 * as NCL's E-step uses it (Lin et al., WWW 2022, via faiss.Kmeans): cluster the rows of x, assign
 * every row to its nearest centroid, optionally L2-normalise the centroids afterwards (NCL
 * contrasts normalised embeddings with normalised prototypes). An emptied cluster is re-seeded
 * with the point farthest from its centroid. Deterministic for a given seed. The distance passes
 * (k-means++ seeding; each assignment's row–centroid products) run as WebAssembly SIMD kernels
 * (`math/wasm`).
 */
import { Rng } from '../math/rng.js';
import { kernelHeap, roundUp, type HeapMatrix, type KernelHeap } from '../math/wasm/heap.js';
import { GEMM_COLS, GEMM_ROWS } from '../math/wasm/kernels.js';

export interface KMeansOptions {
  readonly k: number;
  /** Lloyd iterations after initialisation (default 10). */
  readonly iterations?: number;
  readonly seed: number;
  /** L2-normalise the returned centroids (assignments are made before normalising). Default false. */
  readonly normalizeCentroids?: boolean;
}

export interface KMeansResult {
  /** [k, dim] */
  readonly centroids: Float32Array;
  /** Cluster of each row: [n] */
  readonly assignment: Int32Array;
  /** Sum of squared distances of rows to their (unnormalised) centroids. */
  readonly inertia: number;
}

/** Clusters the n rows of x [n, dim] into k groups (k ≤ n). */
export function kmeans(x: Float32Array, dim: number, opts: KMeansOptions): KMeansResult {
  const n = x.length / dim;
  const { k, seed } = opts;
  const iterations = opts.iterations ?? 10;
  if (!Number.isInteger(n)) throw new RangeError(`kmeans: ${x.length} values is not a multiple of dim ${dim}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmeans: k must be an integer in [1, ${n}] (rows), got ${k}`);
  if (!Number.isInteger(iterations) || iterations < 0) throw new RangeError(`kmeans: iterations must be a non-negative integer, got ${iterations}`);
  const rng = Rng.derive(seed, 'kmeans');
  const rows = new RowKernels(x, n, dim, k);
  const centroids = initPlusPlus(x, n, dim, k, rng, rows);
  const assignment = new Int32Array(n);
  const dist = new Float64Array(n);
  let inertia = assign(x, n, dim, centroids, k, assignment, dist, rows);
  for (let it = 0; it < iterations; it++) {
    update(x, n, dim, centroids, k, assignment, dist);
    inertia = assign(x, n, dim, centroids, k, assignment, dist, rows);
  }
  if (opts.normalizeCentroids) {
    for (let c = 0; c < k; c++) {
      const s = squaredNorm(centroids, c * dim, dim);
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let f = 0; f < dim; f++) centroids[c * dim + f] *= inv;
    }
  }
  return { centroids, assignment, inertia };
}

/** k-means++: first centre uniform, each next one drawn with probability ∝ squared distance to the nearest centre. */
function initPlusPlus(x: Float32Array, n: number, dim: number, k: number, rng: Rng, rows: RowKernels): Float32Array {
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Infinity);
  let chosen = rng.int(n);
  for (let c = 0; c < k; c++) {
    centroids.set(x.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    const d = rows.squaredDistances(chosen);
    let total = 0;
    for (let r = 0; r < n; r++) {
      if (d[r] < nearest[r]) nearest[r] = d[r];
      total += nearest[r];
    }
    if (c + 1 === k) break;
    if (total === 0) {
      chosen = rng.int(n); // every row coincides with a centre: any row will do
      continue;
    }
    let target = rng.next() * total;
    chosen = n - 1;
    for (let r = 0; r < n; r++) {
      target -= nearest[r];
      if (target < 0) {
        chosen = r;
        break;
      }
    }
  }
  return centroids;
}

/**
 * The kernels k-means runs over its rows, in the kernel heap (`math/wasm`): x [n, dim] is copied in
 * once (rows padded to the gemm's tile, columns to a multiple of 4), then squared distances of
 * every row to one row (k-means++) and X·Cᵀ against the centroids (assignment). Lives for one
 * `kmeans` call (its heap frame).
 */
class RowKernels {
  private readonly heap: KernelHeap;
  private readonly rows: number;
  private readonly width: number;
  private readonly cols: number;
  private readonly x: HeapMatrix;
  private readonly ct: HeapMatrix;
  private readonly out: HeapMatrix;
  private readonly dist: number;

  constructor(x: Float32Array, private readonly n: number, private readonly dim: number, private readonly k: number) {
    const heap = (this.heap = kernelHeap());
    heap.frame();
    this.rows = roundUp(n, GEMM_ROWS);
    this.width = roundUp(dim, 4);
    this.cols = roundUp(k, GEMM_COLS);
    this.x = heap.matrix(this.rows, this.width);
    this.ct = heap.matrix(this.width, this.cols);
    this.out = heap.matrix(this.rows, this.cols);
    this.dist = heap.alloc(4 * n);
    const xs = heap.f32(this.x.at, this.rows * this.width).fill(0);
    for (let r = 0; r < n; r++) xs.set(x.subarray(r * dim, (r + 1) * dim), r * this.width);
  }

  /** ‖x_r − x_row‖² for every row r (f32; valid until the next call). */
  squaredDistances(row: number): Float32Array {
    const { heap, n, width } = this;
    heap.sqdist(this.x, n, width, this.x.at + 4 * row * width, this.dist);
    return heap.f32(this.dist, n);
  }

  /** [rowsPadded, kPadded] view of x · centroidsᵀ (valid until the next call). */
  products(centroids: Float32Array): { readonly values: Float32Array; readonly stride: number } {
    const { heap, dim, k, cols, width } = this;
    const ct = heap.f32(this.ct.at, width * cols).fill(0);
    for (let c = 0; c < k; c++) for (let f = 0; f < dim; f++) ct[f * cols + c] = centroids[c * dim + f];
    heap.gemm(this.rows, cols, width, this.x, this.ct, this.out);
    return { values: heap.f32(this.out.at, this.rows * cols), stride: cols };
  }
}

/** Nearest centroid of every row; returns the inertia and leaves each row's squared distance in `dist`. */
function assign(x: Float32Array, n: number, dim: number, centroids: Float32Array, k: number, assignment: Int32Array, dist: Float64Array, rows: RowKernels): number {
  // ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖²: the nearest centroid minimises ‖c‖² − 2x·c.
  const cNorm = new Float64Array(k);
  for (let c = 0; c < k; c++) cNorm[c] = squaredNorm(centroids, c * dim, dim);
  const { values: d, stride } = rows.products(centroids);
  let inertia = 0;
  for (let r = 0; r < n; r++) {
    const ro = r * stride;
    let best = 0;
    let bestScore = Infinity;
    for (let c = 0; c < k; c++) {
      const score = cNorm[c] - 2 * d[ro + c];
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    assignment[r] = best;
    dist[r] = squaredDistance(x, r * dim, centroids, best * dim, dim);
    inertia += dist[r];
  }
  return inertia;
}

/** Centroids ← means of their rows; an empty cluster takes the row farthest from its centroid. */
function update(x: Float32Array, n: number, dim: number, centroids: Float32Array, k: number, assignment: Int32Array, dist: Float64Array): void {
  const counts = new Int32Array(k);
  centroids.fill(0);
  for (let r = 0; r < n; r++) {
    const c = assignment[r];
    counts[c]++;
    for (let f = 0; f < dim; f++) centroids[c * dim + f] += x[r * dim + f];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      const inv = 1 / counts[c];
      for (let f = 0; f < dim; f++) centroids[c * dim + f] *= inv;
      continue;
    }
    let far = 0;
    for (let r = 1; r < n; r++) if (dist[r] > dist[far]) far = r;
    centroids.set(x.subarray(far * dim, (far + 1) * dim), c * dim);
    dist[far] = 0; // not taken twice
  }
}

function squaredNorm(a: Float32Array, ao: number, dim: number): number {
  let s = 0;
  for (let f = 0; f < dim; f++) s += a[ao + f] * a[ao + f];
  return s;
}

/** ‖a[ao..] − b[bo..]‖² over dim entries. */
function squaredDistance(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let f = 0; f < dim; f++) {
    const d = a[ao + f] - b[bo + f];
    s += d * d;
  }
  return s;
}
