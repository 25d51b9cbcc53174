/**
 * k-means (Lloyd's iterations) with seeded k-means++ initialisation (Arthur & Vassilvitskii 2007),
 * as NCL's E-step uses it (Lin et al., WWW 2022, via faiss.Kmeans): cluster the rows of x, assign
 * every row to its nearest centroid, optionally L2-normalise the centroids afterwards (NCL
 * contrasts normalised embeddings with normalised prototypes). An emptied cluster is re-seeded
 * with the point farthest from its centroid. Deterministic for a given seed. The row–centroid
 * dot products of each assignment step run as one WebAssembly SIMD gemm (`math/wasm`).
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
  const centroids = initPlusPlus(x, n, dim, k, rng);
  const assignment = new Int32Array(n);
  const dist = new Float64Array(n);
  const products = new Products(x, n, dim, k);
  let inertia = assign(x, n, dim, centroids, k, assignment, dist, products);
  for (let it = 0; it < iterations; it++) {
    update(x, n, dim, centroids, k, assignment, dist);
    inertia = assign(x, n, dim, centroids, k, assignment, dist, products);
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
function initPlusPlus(x: Float32Array, n: number, dim: number, k: number, rng: Rng): Float32Array {
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Infinity);
  let chosen = rng.int(n);
  for (let c = 0; c < k; c++) {
    centroids.set(x.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const d = squaredDistance(x, r * dim, centroids, c * dim, dim);
      if (d < nearest[r]) nearest[r] = d;
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
 * X·Cᵀ for the rows of x [n, dim] against k centroids, in the kernel heap: x is copied in once
 * (rows padded to the gemm's tile), the centroids (transposed, padded) at every call. Lives for
 * one `kmeans` call (its heap frame).
 */
class Products {
  private readonly heap: KernelHeap;
  private readonly rows: number;
  private readonly cols: number;
  private readonly x: HeapMatrix;
  private readonly ct: HeapMatrix;
  private readonly out: HeapMatrix;

  constructor(x: Float32Array, n: number, private readonly dim: number, private readonly k: number) {
    this.heap = kernelHeap();
    this.heap.frame();
    this.rows = roundUp(n, GEMM_ROWS);
    this.cols = roundUp(k, GEMM_COLS);
    this.x = this.heap.matrix(this.rows, dim);
    this.ct = this.heap.matrix(dim, this.cols);
    this.out = this.heap.matrix(this.rows, this.cols);
    const xs = this.heap.f32(this.x.at, this.rows * dim);
    xs.set(x);
    xs.fill(0, x.length);
  }

  /** [rowsPadded, kPadded] view of x · centroidsᵀ (valid until the heap's next frame). */
  of(centroids: Float32Array): { readonly values: Float32Array; readonly stride: number } {
    const { heap, dim, k, cols } = this;
    const ct = heap.f32(this.ct.at, dim * cols).fill(0);
    for (let c = 0; c < k; c++) for (let f = 0; f < dim; f++) ct[f * cols + c] = centroids[c * dim + f];
    heap.gemm(this.rows, cols, dim, this.x, this.ct, this.out);
    return { values: heap.f32(this.out.at, this.rows * cols), stride: cols };
  }
}

/** Nearest centroid of every row; returns the inertia and leaves each row's squared distance in `dist`. */
function assign(x: Float32Array, n: number, dim: number, centroids: Float32Array, k: number, assignment: Int32Array, dist: Float64Array, products: Products): number {
  // ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖²: the nearest centroid minimises ‖c‖² − 2x·c.
  const cNorm = new Float64Array(k);
  for (let c = 0; c < k; c++) cNorm[c] = squaredNorm(centroids, c * dim, dim);
  const { values: d, stride } = products.of(centroids);
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
