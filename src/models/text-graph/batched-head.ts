/**
 * The UFGraphFR head (Wang, Hao, Xiao 2026; models/text-graph/model.ts) over a minibatch as matrix
 * products on the WebAssembly SIMD dense kernels NeuMF uses (math/wasm/dense-kernels.ts, through the
 * per-thread instance of math/wasm/dense-scratch.ts). Rows are examples. With w = [d, layers...]
 * and M_0 the item half W0[d:2d) of the first layer, M_l = head{l}.W (l ≥ 1):
 *   forward   A_0 = Q (the batch's item rows), A_1 = ReLU(A_0·M_0 + p_u) with p_u the user term
 *             b0 + e_u·W0[0:d), one per run of consecutive rows of one user, A_{l+1} = ReLU(A_l·M_l + b_l);
 *   backward  from G_L = ∂L/∂(pre-ReLU of the last hidden layer) the caller fills in:
 *             ∂M_l = A_lᵀ·G_{l+1}, ∂b_l = Σ_rows G_{l+1} (l ≥ 1), G_l = (G_{l+1}·M_lᵀ) ⊙ [A_l > 0] (l ≥ 1),
 *             G_0 = G_1·M_0ᵀ = ∂L/∂q per row, and Σ_run G_1 = ∂L/∂p_u per run.
 * The output unit, the dot-product branch, the loss and the deferred user half stay with the model.
 * Applies when d and every hidden width are multiples of the kernels' column tile (8).
 */
import { GEMM_COLS, GEMM_ROWS } from '../../math/wasm/dense-kernels.js';
import { denseScratch, denseScratchSupported, type DenseScratch } from '../../math/wasm/dense-scratch.js';

/** Whether the batched head can run item width `dim` and hidden widths `layers` here. */
export function batchedHeadApplies(dim: number, layers: readonly number[]): boolean {
  return layers.length > 0 && [dim, ...layers].every((w) => w % GEMM_COLS === 0) && denseScratchSupported();
}

const round16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Views of one batch's matrices in the kernels' memory (valid until the next `begin`). */
export interface HeadViews {
  /** A_0 = Q [rows, d]: the caller writes rows [0, n); `begin` zeroes the padding. */
  readonly input: Float32Array;
  /** p_u of run k at [k·h1, (k+1)·h1): the caller writes them before `forward`. */
  readonly runBias: Float32Array;
  /** Σ of G_1 over run k's rows at [k·h1, (k+1)·h1) after `backward`: ∂L/∂p_u. */
  readonly runGrad: Float32Array;
  /** A_L after the forward pass [rows, w_L]. */
  readonly last: Float32Array;
  /** G_L [rows, w_L]: the caller writes rows [0, n) before `backward` (the padding is zeroed). */
  readonly gradLast: Float32Array;
  /** G_1 [rows, h1] after `backward`: ∂L/∂(first layer's pre-activation), per row. */
  readonly gradFirst: Float32Array;
  /** G_0 [rows, d] after `backward`: ∂L/∂q per row. */
  readonly gradInput: Float32Array;
  /** ∂M_l after `backward`, l = 0 .. L−1 ([w_l, w_{l+1}]). */
  readonly gradW: readonly Float32Array[];
  /** ∂b_l after `backward`, l = 1 .. L−1 (index 0 unused, empty). */
  readonly gradB: readonly Float32Array[];
}

export class BatchedHead {
  private readonly s: DenseScratch;
  private readonly w: number[]; // [d, layers...]
  private readonly L: number;
  // byte offsets of the weights: M_l, M_lᵀ, b_l (l ≥ 1), their gradients, a zero bias for layer 0
  private readonly M: number[] = [];
  private readonly Mt: number[] = [];
  private readonly b: number[] = [];
  private readonly dM: number[] = [];
  private readonly db: number[] = [];
  private readonly zero: number;
  private readonly fixedEnd: number;
  private rows = 0;
  private n = 0;
  private A: number[] = [];
  private G: number[] = [];
  private runBias = 0;
  private runGrad = 0;
  private runStarts = new Int32Array(0);
  private runCount = 0;
  private cap = 0;
  private buffer: ArrayBuffer | null = null;
  private v: HeadViews | null = null;
  private weightViews: { M: Float32Array[]; Mt: Float32Array[]; b: Float32Array[] } | null = null;

  constructor(dim: number, layers: readonly number[]) {
    if (!batchedHeadApplies(dim, layers)) throw new Error(`batched text-graph head: widths [${dim}, ${layers}] must be multiples of ${GEMM_COLS} with at least one hidden layer`);
    this.s = denseScratch();
    this.w = [dim, ...layers];
    this.L = layers.length;
    let top = 0;
    const take = (floats: number): number => {
      const at = top;
      top = round16(top + 4 * floats);
      return at;
    };
    for (let l = 0; l < this.L; l++) {
      const size = this.w[l] * this.w[l + 1];
      this.M.push(take(size));
      this.Mt.push(take(size));
      this.b.push(take(this.w[l + 1]));
      this.dM.push(take(size));
      this.db.push(take(this.w[l + 1]));
    }
    this.zero = take(Math.max(...this.w));
    this.fixedEnd = top;
  }

  /** Lays out a batch of n rows; returns the views (padded to the kernels' row tile). */
  begin(n: number): HeadViews {
    const rows = Math.max(GEMM_ROWS, Math.ceil(n / GEMM_ROWS) * GEMM_ROWS);
    if (rows > this.cap) {
      let top = this.fixedEnd;
      this.A = [];
      this.G = [];
      for (const w of this.w) {
        this.A.push(top);
        top = round16(top + 4 * rows * w);
        this.G.push(top);
        top = round16(top + 4 * rows * w);
      }
      this.runBias = top;
      top = round16(top + 4 * rows * this.w[1]);
      this.runGrad = top;
      top = round16(top + 4 * rows * this.w[1]);
      this.runStarts = new Int32Array(rows + 1);
      this.cap = rows;
      this.s.reserve(top, 'text-graph dense kernels');
      this.buffer = null;
    }
    this.rows = rows;
    const buf = this.s.memory.buffer;
    if (buf !== this.buffer) {
      // (re)make the views: first use, a larger batch, or the shared memory grew under another user
      const { w, L, cap } = this;
      const f32 = (at: number, length: number): Float32Array => new Float32Array(buf, at, length);
      this.v = {
        input: f32(this.A[0], cap * w[0]),
        runBias: f32(this.runBias, cap * w[1]),
        runGrad: f32(this.runGrad, cap * w[1]),
        last: f32(this.A[L], cap * w[L]),
        gradLast: f32(this.G[L], cap * w[L]),
        gradFirst: f32(this.G[1], cap * w[1]),
        gradInput: f32(this.G[0], cap * w[0]),
        gradW: this.dM.map((at, l) => f32(at, w[l] * w[l + 1])),
        gradB: this.db.map((at, l) => (l === 0 ? new Float32Array(0) : f32(at, w[l + 1]))),
      };
      this.weightViews = {
        M: this.M.map((at, l) => f32(at, w[l] * w[l + 1])),
        Mt: this.Mt.map((at, l) => f32(at, w[l] * w[l + 1])),
        b: this.b.map((at, l) => f32(at, w[l + 1])),
      };
      f32(this.zero, Math.max(...w)).fill(0);
      this.buffer = buf;
    }
    const v = this.v!;
    v.input.fill(0, n * this.w[0], rows * this.w[0]);
    this.runCount = 0;
    this.n = n;
    return v;
  }

  /** Starts run k (k = 0, 1, … in order) at row `row`: rows up to the next run's start share p_u. */
  startRun(row: number): void {
    this.runStarts[this.runCount++] = row;
  }

  /**
   * Copies the weights in (M_0 = `itemHalf` [d, h1], M_l = `W[l]`, b_l = `B[l]` for l ≥ 1) with
   * their transposes, for the batch `begin` laid out.
   */
  loadWeights(itemHalf: Float32Array, W: readonly Float32Array[], B: readonly Float32Array[]): void {
    const { M, Mt, b } = this.weightViews!;
    for (let l = 0; l < this.L; l++) {
      const src = l === 0 ? itemHalf : W[l];
      const m = M[l];
      const mt = Mt[l];
      const wi = this.w[l];
      const wo = this.w[l + 1];
      m.set(src);
      for (let a = 0; a < wi; a++) for (let c = 0; c < wo; c++) mt[c * wi + a] = src[a * wo + c];
      if (l > 0) b[l].set(B[l]);
    }
  }

  /** Forward of the rows `begin` laid out (runs started, their p_u written): A_1 .. A_L. */
  forward(): void {
    const { gemm, biasRelu } = this.s.kernels;
    const { w, rows, n } = this;
    this.runStarts[this.runCount] = n;
    for (let l = 0; l < this.L; l++) {
      const wi = w[l];
      const wo = w[l + 1];
      gemm(0, rows, this.A[l], 4 * wi, 4, this.M[l], 4 * wo, this.A[l + 1], 4 * wo, wo, wi, 0);
      if (l > 0) biasRelu(0, rows, this.A[l + 1], 4 * wo, wo, this.b[l]);
      else {
        for (let k = 0; k < this.runCount; k++) biasRelu(this.runStarts[k], this.runStarts[k + 1], this.A[1], 4 * wo, wo, this.runBias + 4 * wo * k);
        if (n < rows) biasRelu(n, rows, this.A[1], 4 * wo, wo, this.zero);
      }
    }
  }

  /** Backward from G_L (rows [0, n) written by the caller; the padding is zeroed here). */
  backward(n: number): void {
    const { gemm, colSums, maskPositive } = this.s.kernels;
    const { w, rows, L } = this;
    this.v!.gradLast.fill(0, n * w[L], rows * w[L]);
    for (let l = L - 1; l >= 0; l--) {
      const wi = w[l];
      const wo = w[l + 1];
      // ∂M_l = A_lᵀ·G_{l+1} (A_l read through a transposed view); the padding rows of G are zero
      gemm(0, wi, this.A[l], 4, 4 * wi, this.G[l + 1], 4 * wo, this.dM[l], 4 * wo, wo, rows, 0);
      if (l > 0) {
        this.v!.gradB[l].fill(0);
        colSums(0, n, this.G[l + 1], 4 * wo, wo, this.db[l]);
      }
      gemm(0, rows, this.G[l + 1], 4 * wo, 4, this.Mt[l], 4 * wi, this.G[l], 4 * wi, wi, wo, 0);
      if (l > 0) maskPositive(0, rows, this.G[l], 4 * wi, wi, this.A[l], 4 * wi);
    }
    const h1 = w[1];
    this.v!.runGrad.fill(0, 0, this.runCount * h1);
    for (let k = 0; k < this.runCount; k++) colSums(this.runStarts[k], this.runStarts[k + 1], this.G[1], 4 * h1, h1, this.runGrad + 4 * h1 * k);
  }
}
