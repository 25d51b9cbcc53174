/**
 * The memory the WebAssembly kernels (`kernels.ts`) work in, and their typed entry points. One
 * heap per thread (`kernelHeap()`): callers copy operands in, run kernels, copy results out,
 * all within one call of theirs. Each such call starts a *frame* (`frame()`), which frees the
 * previous call's scratch; one object may stay *pinned* across frames (the graph of SpMM, which
 * every layer of every minibatch reuses). Large kernel calls are spread over helper threads
 * (`pool.ts`) on the same shared memory; small ones run on the calling thread only.
 */
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { GEMM_COLS, GEMM_ROWS, KERNEL_NAMES, MAX_PAGES, SPMM_COLS, kernelModuleBytes, type KernelName } from './kernels.js';
import { HelperPool, MAX_HELPERS, type Kernel } from './pool.js';
import { f32Bits } from './encoder.js';
import { growTo } from './memory.js';

/** Multiply-adds below which a call runs on the calling thread alone (waking a helper costs more). */
const PARALLEL_WORK = 1 << 22;
/** Multiply-add equivalents per logit of InfoNCE's softmax step (three passes, one exp). */
const SOFTMAX_COST = 16;
/** Chunks per thread a parallel call is cut into (claimed dynamically: a busy thread takes fewer). */
const CHUNKS_PER_THREAD = 8;

/** Where a dense matrix lives in the heap: element (i, j) at `at + 4·(i·row + j·col)`. */
export interface HeapMatrix {
  readonly at: number;
  /** Row and column strides, in floats. */
  readonly row: number;
  readonly col: number;
}

/** The rows of `m` from row `i` on (same strides). */
export const rowsFrom = (m: HeapMatrix, i: number): HeapMatrix => ({ ...m, at: m.at + 4 * i * m.row });

/** Rounds n up to a multiple of m. */
export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

let compiled: WebAssembly.Module | null = null;

export class KernelHeap {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  private readonly kernels: Record<KernelName, Kernel>;
  private pool: HelperPool | null = null;
  private top = 0;
  private base = 0;
  private pinnedKey: object | null = null;
  private pinnedValue: unknown = null;

  /** @param helpers helper threads for large calls (0: this thread only); started on first use. */
  constructor(readonly helpers: number) {
    compiled ??= new WebAssembly.Module(kernelModuleBytes());
    const exports = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports;
    this.kernels = Object.fromEntries(KERNEL_NAMES.map((n) => [n, exports[n] as Kernel])) as Record<KernelName, Kernel>;
  }

  /** Starts a caller's use of the heap: everything allocated since the last frame is released. */
  frame(): void {
    this.top = this.base;
  }

  /** Byte offset of `bytes` fresh bytes (16-byte aligned, contents undefined) in this frame. */
  alloc(bytes: number): number {
    const at = roundUp(this.top, 16);
    this.top = at + bytes;
    growTo(this.memory, this.top, MAX_PAGES, 'kernel heap');
    return at;
  }

  /** A row-major [rows, cols] matrix of this frame (contents undefined). */
  matrix(rows: number, cols: number): HeapMatrix {
    return { at: this.alloc(4 * rows * cols), row: cols, col: 1 };
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }

  /**
   * `place()`'s result for `key`, placing it (allocating and filling) only when `key` is not the
   * object pinned already; it then stays until another key is pinned. Call first in a frame.
   * The pinned object must not change while pinned.
   */
  pinned<T>(key: object, place: () => T): T {
    if (this.top !== this.base) throw new Error('kernel heap: pinned() must come first in a frame');
    if (this.pinnedKey !== key) {
      this.top = 0;
      this.pinnedKey = null;
      this.pinnedValue = place();
      this.pinnedKey = key;
      this.base = this.top;
    }
    return this.pinnedValue as T;
  }

  /**
   * C [m, n] = X [m, k] · Y [k, n], or C += X · Y when `accumulate` (Y and C row-major with unit
   * column stride; X any strides). m must be a multiple of GEMM_ROWS and n of GEMM_COLS (callers
   * pad with zeros).
   */
  gemm(m: number, n: number, k: number, x: HeapMatrix, y: HeapMatrix, c: HeapMatrix, accumulate = false): void {
    if (m % GEMM_ROWS !== 0 || n % GEMM_COLS !== 0) throw new RangeError(`gemm: m ${m} must be a multiple of ${GEMM_ROWS}, n ${n} of ${GEMM_COLS}`);
    if (y.col !== 1 || c.col !== 1) throw new RangeError('gemm: Y and C must have unit column stride');
    this.run('gemm', m, GEMM_ROWS, m * n * k, [x.at, 4 * x.row, 4 * x.col, y.at, 4 * y.row, c.at, 4 * c.row, n, k, accumulate ? 1 : 0]);
  }

  /**
   * out [rows, cols] = A · X for the CSR matrix placed at (indptr, indices, values) with `nnz`
   * entries; X and out row-major, cols a multiple of SPMM_COLS.
   */
  spmm(csr: { readonly indptr: number; readonly indices: number; readonly values: number }, rows: number, nnz: number, cols: number, x: number, out: number): void {
    if (cols % SPMM_COLS !== 0) throw new RangeError(`spmm: cols ${cols} must be a multiple of ${SPMM_COLS}`);
    this.run('spmm', rows, 1, nnz * cols, [csr.indptr, csr.indices, csr.values, x, out, 4 * cols]);
  }

  /**
   * The row-local part of InfoNCE on `rows` anchor rows (a multiple of GEMM_ROWS; rows from `valid`
   * on are padding): logits S = A·Tt, softmax into the logit gradient G (S is overwritten), then
   * gA = G·T (see `infonce` in kernels.ts). A, T, gA have `dim` columns, Tt and S `width`
   * (of which the first nT are real targets). `anchors` holds the heap addresses of the rows'
   * weights (f32), positives (i32) and the kernel's outputs sums, maxes and posLogits (f32).
   */
  infoNceRows(
    rows: number, valid: number, a: HeapMatrix, tt: HeapMatrix, s: HeapMatrix, t: HeapMatrix, ga: HeapMatrix,
    dim: number, width: number, nT: number, invT: number,
    anchors: { readonly weights: number; readonly positives: number; readonly sums: number; readonly maxes: number; readonly posLogits: number },
  ): void {
    if (rows % GEMM_ROWS !== 0 || dim % GEMM_COLS !== 0 || width % GEMM_COLS !== 0) throw new RangeError(`infoNceRows: rows ${rows} must be a multiple of ${GEMM_ROWS}, dim ${dim} and width ${width} of ${GEMM_COLS}`);
    if ([a, t, ga].some((m) => m.row !== dim || m.col !== 1) || [tt, s].some((m) => m.row !== width || m.col !== 1)) throw new RangeError('infoNceRows: operands must be row-major with rows of dim / width floats');
    const invTBits = f32Bits(invT);
    const { weights, positives, sums, maxes, posLogits } = anchors;
    this.run('infonce', rows, GEMM_ROWS, rows * width * (2 * dim + SOFTMAX_COST), [a.at, tt.at, s.at, t.at, ga.at, dim, width, nT, valid, invTBits, weights, positives, sums, maxes, posLogits]);
  }

  /** out[r] = ‖X[r] − c‖² (f32 array in the heap) for the rows of X [rows, cols], c a row of cols floats; cols a multiple of 4. */
  sqdist(x: HeapMatrix, rows: number, cols: number, c: number, out: number): void {
    if (cols % 4 !== 0 || x.col !== 1) throw new RangeError(`sqdist: cols ${cols} must be a multiple of 4, unit column stride`);
    this.run('sqdist', rows, 1, rows * cols, [x.at, 4 * x.row, c, out]);
  }

  private run(name: KernelName, rows: number, grain: number, work: number, args: readonly number[]): void {
    const kernel = this.kernels[name];
    if (this.helpers === 0 || work < PARALLEL_WORK) {
      kernel(0, rows, ...args);
      return;
    }
    this.pool ??= new HelperPool(compiled!, this.memory, this.helpers);
    const chunk = roundUp(Math.ceil(rows / ((this.helpers + 1) * CHUNKS_PER_THREAD)), grain);
    this.pool.run(name, kernel, rows, chunk, args);
  }
}

/**
 * Helper threads of this thread's heap: FEDREC_KERNEL_THREADS − 1 when set, else one per further
 * core, on the main thread only (worker threads, e.g. the parallel simulation's, already share
 * the cores).
 */
function defaultHelpers(): number {
  if (!isMainThread) return 0;
  const env = process.env.FEDREC_KERNEL_THREADS;
  const threads = env ? Number(env) : availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`FEDREC_KERNEL_THREADS must be a positive integer, got '${env}'`);
  return Math.min(threads - 1, MAX_HELPERS);
}

let shared: KernelHeap | null = null;

/** This thread's heap. */
export function kernelHeap(): KernelHeap {
  shared ??= new KernelHeap(defaultHelpers());
  return shared;
}
