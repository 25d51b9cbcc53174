/**
 * WebAssembly SIMD kernel for the server's running sums of client updates (FedAvg, McMahan et al.
 * 2017): float64 sums of weighted float32 row deltas, scattered to the rows each client touched.
 * Each sum is updated as `sum + w·float64(delta)`, the very operations of the JavaScript loop, so
 * the sums are bit-identical to it. A module of its own on a private memory (the accumulator's).
 */
import {
  assemble, f32x4DemoteF64x2Zero, f64Add, f64Const, f64Store, f64Load, f64x2Add, f64x2Mul, f64x2PromoteLowF32x4, f64x2Splat, forLoop, get, I32, i32, i32Add, i32Load, i32Mul, i32Shl, set,
  V128, v128Load, v128Load64Zero, v128Store, f64x2ExtractLane, type Code, type FunctionDef,
} from './encoder.js';

export const SUM_KERNEL_NAMES = ['addRowsF64', 'addRowsScaledF64', 'sumOfSquaresF64', 'addRowsRowScaledF64', 'rowSquaresF64'] as const;

/**
 * addRowsF64(lo, hi, rows, delta, sums, cols, weightAt): for k in [lo, hi),
 * sums[rows[k]·cols + f] += w · delta[k·cols + f] for f < cols (an even count); delta f32 rows,
 * sums f64 rows, w the f64 at weightAt.
 */
function addRowsF64(): FunctionDef {
  return rowSumKernel('addRowsF64', false);
}

/**
 * addRowsScaledF64(lo, hi, rows, delta, sums, cols, weightAt): as addRowsF64 with each delta first
 * scaled and rounded to float32 — sums += w · float64(float32(delta · s)), s the f64 at weightAt + 8:
 * the sums of a clipped copy (`t.map((v) => v * s)`, bounds.ts `clipUpdate`) without making it.
 */
function addRowsScaledF64(): FunctionDef {
  return rowSumKernel('addRowsScaledF64', true);
}

/**
 * addRowsRowScaledF64(lo, hi, rows, delta, sums, cols, weightAt, scalesAt): as addRowsScaledF64
 * with a scale per row, the f64 at scalesAt + 8k for row k: the sums of an update whose rows were
 * bounded one by one (row-bound.ts `scaleRows`) without making the bounded copy.
 */
function addRowsRowScaledF64(): FunctionDef {
  return rowSumKernel('addRowsRowScaledF64', true, true);
}

function rowSumKernel(name: string, scaled: boolean, perRow = false): FunctionDef {
  const [lo, hi, rows, delta, sums, cols, weightAt, scalesAt] = [0, 1, 2, 3, 4, 5, 6, 7];
  const params = perRow ? 8 : 7;
  const [k, src, dst, end] = [params, params + 1, params + 2, params + 3];
  const [w, scale] = [params + 4, params + 5];
  const value: Code = scaled
    ? [get(src), v128Load64Zero(0), f64x2PromoteLowF32x4, get(scale), f64x2Mul, f32x4DemoteF64x2Zero, f64x2PromoteLowF32x4]
    : [get(src), v128Load64Zero(0), f64x2PromoteLowF32x4];
  return {
    name,
    params,
    locals: [I32, I32, I32, I32, V128, V128],
    body: [
      get(weightAt), f64Load(0), f64x2Splat, set(w),
      get(weightAt), f64Load(8), f64x2Splat, set(scale),
      get(delta), get(lo), get(cols), i32Mul, i32(2), i32Shl, i32Add, set(src),
      forLoop(k, get(lo), get(hi), i32(1), [
        perRow ? [get(scalesAt), get(k), i32(3), i32Shl, i32Add, f64Load(0), f64x2Splat, set(scale)] : [],
        get(sums), get(rows), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(cols), i32Mul, i32(3), i32Shl, i32Add, set(dst),
        get(dst), get(cols), i32(3), i32Shl, i32Add, set(end),
        forLoop(dst, get(dst), get(end), i32(16), [
          get(dst), get(dst), v128Load(0), get(w), value, f64x2Mul, f64x2Add, v128Store(0),
          get(src), i32(8), i32Add, set(src),
        ]),
      ]),
    ],
  };
}

/**
 * sumOfSquaresF64(values, count, outAt): Σ v² of `count` f32 values (a multiple of four) in float64
 * with four running sums, lane j taking the values at j mod 4, stored at outAt as a + b + (c + d) —
 * the operations of bounds.ts `sumOfSquares`, so the same number bit for bit.
 */
function sumOfSquaresF64(): FunctionDef {
  const [values, count, outAt] = [0, 1, 2];
  const [at, end] = [3, 4];
  const [ab, cd, x] = [5, 6, 7];
  return {
    name: 'sumOfSquaresF64',
    params: 3,
    locals: [I32, I32, V128, V128, V128],
    body: [
      get(values), get(count), i32(2), i32Shl, i32Add, set(end),
      forLoop(at, get(values), get(end), i32(16), [
        get(at), v128Load64Zero(0), f64x2PromoteLowF32x4, set(x),
        get(ab), get(x), get(x), f64x2Mul, f64x2Add, set(ab),
        get(at), v128Load64Zero(8), f64x2PromoteLowF32x4, set(x),
        get(cd), get(x), get(x), f64x2Mul, f64x2Add, set(cd),
      ]),
      get(outAt),
      get(ab), f64x2ExtractLane(0), get(ab), f64x2ExtractLane(1), f64Add,
      get(cd), f64x2ExtractLane(0), get(cd), f64x2ExtractLane(1), f64Add,
      f64Add,
      f64Store(0),
    ],
  };
}

/**
 * rowSquaresF64(n, delta, cols, outAt): for each of n rows of `cols` f32 values (an even count),
 * out[k] += (Σ even columns v²) + (Σ odd columns v²) in float64, out the f64 array at outAt — the
 * operations of row-bound.ts `rowSquares`, bit for bit.
 */
function rowSquaresF64(): FunctionDef {
  const [n, delta, cols, outAt] = [0, 1, 2, 3];
  const [k, at, end, out] = [4, 5, 6, 7];
  const [acc, x] = [8, 9];
  return {
    name: 'rowSquaresF64',
    params: 4,
    locals: [I32, I32, I32, I32, V128, V128],
    body: [
      get(delta), set(at),
      forLoop(k, i32(0), get(n), i32(1), [
        get(at), get(cols), i32(2), i32Shl, i32Add, set(end),
        f64Const(0), f64x2Splat, set(acc),
        forLoop(at, get(at), get(end), i32(8), [
          get(at), v128Load64Zero(0), f64x2PromoteLowF32x4, set(x),
          get(acc), get(x), get(x), f64x2Mul, f64x2Add, set(acc),
        ]),
        get(outAt), get(k), i32(3), i32Shl, i32Add, set(out),
        get(out),
        get(out), f64Load(0),
        get(acc), f64x2ExtractLane(0), get(acc), f64x2ExtractLane(1), f64Add,
        f64Add,
        f64Store(0),
      ]),
    ],
  };
}

/** The module's binary (memory imported as `env.memory`, not shared). */
export function sumKernelModuleBytes(maxPages: number): Uint8Array<ArrayBuffer> {
  return assemble([addRowsF64(), addRowsScaledF64(), sumOfSquaresF64(), addRowsRowScaledF64(), rowSquaresF64()], { shared: false, maxPages });
}

type Kernel = (...args: number[]) => void;
const PAGE = 65536;
let compiledFor: { pages: number; module: WebAssembly.Module } | null = null;
let supported: boolean | null = null;

/** Whether this runtime has WebAssembly with fixed-width SIMD. */
export function sumSimdSupported(): boolean {
  supported ??= typeof WebAssembly === 'object' && WebAssembly.validate(sumKernelModuleBytes(1));
  return supported;
}

/**
 * Float64 row sums of named [rows, cols] tables (cols even) in a private WebAssembly memory, with
 * room to copy one update's rows and deltas in. `sums(name)` is a view that stays valid (the
 * memory never grows after construction).
 */
export class RowSums {
  private readonly add: Kernel;
  private readonly addScaled: Kernel;
  private readonly squares: Kernel;
  private readonly addRowScaled: Kernel;
  private readonly rowSquaresKernel: Kernel;
  private readonly memory: WebAssembly.Memory;
  private readonly at: Record<string, { sums: number; cols: number; rows: number }> = {};
  private readonly rowsAt: number;
  private readonly deltaAt: number;
  /** f64 weight, f64 scale, f64 sum of squares out. */
  private readonly weightAt: number;
  /** Room for this many delta values. */
  private readonly deltaRoom: number;
  /** f64 per-row scales or row squares, one per row of the tallest table. */
  private readonly perRowAt: number;
  private readonly tallest: number;
  /** The delta array whose values `sumOfSquares` left at deltaAt (so `addRows` need not copy them again). */
  private staged: Float32Array | null = null;

  constructor(tables: readonly { readonly name: string; readonly rows: number; readonly cols: number }[]) {
    let top = 0;
    let widest = 0;
    let tallest = 0;
    for (const t of tables) {
      this.at[t.name] = { sums: top, cols: t.cols, rows: t.rows };
      top += 8 * t.rows * t.cols;
      widest = Math.max(widest, t.cols);
      tallest = Math.max(tallest, t.rows);
    }
    this.weightAt = top;
    this.rowsAt = top + 32;
    this.deltaAt = this.rowsAt + 4 * tallest + 16;
    this.deltaRoom = tallest * widest;
    this.tallest = tallest;
    this.perRowAt = 8 * Math.ceil((this.deltaAt + 4 * this.deltaRoom) / 8);
    const pages = Math.max(1, Math.ceil((this.perRowAt + 8 * tallest) / PAGE));
    if (compiledFor?.pages !== pages) compiledFor = { pages, module: new WebAssembly.Module(sumKernelModuleBytes(pages)) };
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const exports = new WebAssembly.Instance(compiledFor.module, { env: { memory: this.memory } }).exports;
    this.add = exports.addRowsF64 as Kernel;
    this.addScaled = exports.addRowsScaledF64 as Kernel;
    this.squares = exports.sumOfSquaresF64 as Kernel;
    this.addRowScaled = exports.addRowsRowScaledF64 as Kernel;
    this.rowSquaresKernel = exports.rowSquaresF64 as Kernel;
  }

  has(name: string): boolean {
    return name in this.at;
  }

  sums(name: string): Float64Array {
    const t = this.at[name];
    return new Float64Array(this.memory.buffer, t.sums, t.rows * t.cols);
  }

  /**
   * Σ v² of `values` in float64, bit-identical to bounds.ts `sumOfSquares`; null (for the caller's
   * JavaScript loop) when their count is not a multiple of four or exceeds the room for one update.
   */
  sumOfSquares(values: Float32Array): number | null {
    if (values.length % 4 !== 0 || values.length > this.deltaRoom) return null;
    const buffer = this.memory.buffer;
    new Float32Array(buffer, this.deltaAt, values.length).set(values);
    this.staged = values;
    this.squares(this.deltaAt, values.length, this.weightAt + 16);
    return new Float64Array(buffer, this.weightAt + 16, 1)[0];
  }

  /**
   * out[k] += Σ of the squared values of row k of `values` (n rows of an even width), bit-identical
   * to row-bound.ts `rowSquares`; false (nothing added) when the width is odd or the rows do not fit.
   */
  rowSquares(values: Float32Array, n: number, out: Float64Array): boolean {
    const cols = values.length / n;
    if (!(n > 0) || n > this.tallest || !Number.isInteger(cols) || cols % 2 !== 0 || values.length > this.deltaRoom || out.length < n) return false;
    const buffer = this.memory.buffer;
    if (this.staged !== values) new Float32Array(buffer, this.deltaAt, values.length).set(values);
    this.staged = values;
    const at = new Float64Array(buffer, this.perRowAt, n);
    at.set(out.subarray(0, n));
    this.rowSquaresKernel(n, this.deltaAt, cols, this.perRowAt);
    out.set(at);
    return true;
  }

  /**
   * sums[rows[k]] += w · float32(delta[k] · scales[k]) for every k (row k's values scaled by its
   * own factor: the sums of row-bound.ts `scaleRows`' copy); false as `addRows`.
   */
  addRowsRowScaled(name: string, rows: Int32Array, delta: Float32Array, w: number, scales: Float64Array): boolean {
    const t = this.at[name];
    const staged = this.staged === delta;
    this.staged = null;
    if (rows.length > t.rows || delta.length !== rows.length * t.cols || scales.length !== rows.length) return false;
    for (let k = 0; k < rows.length; k++) if (!(rows[k] >= 0 && rows[k] < t.rows)) return false;
    const buffer = this.memory.buffer;
    new Int32Array(buffer, this.rowsAt, rows.length).set(rows);
    if (!staged) new Float32Array(buffer, this.deltaAt, delta.length).set(delta);
    new Float64Array(buffer, this.perRowAt, rows.length).set(scales);
    new Float64Array(buffer, this.weightAt, 1)[0] = w;
    this.addRowScaled(0, rows.length, this.rowsAt, this.deltaAt, t.sums, t.cols, this.weightAt, this.perRowAt);
    return true;
  }

  /**
   * sums[rows[k]] += w · delta[k] for every k (with `scale` ≠ 1: w · float32(delta[k] · scale), the
   * sums of the clipped copy); false (nothing added) when the rows are not distinct ids in range or
   * the deltas do not match them, for the caller's general path.
   */
  addRows(name: string, rows: Int32Array, delta: Float32Array, w: number, scale = 1): boolean {
    const t = this.at[name];
    const staged = this.staged === delta;
    this.staged = null;
    if (rows.length > t.rows || delta.length !== rows.length * t.cols) return false;
    for (let k = 0; k < rows.length; k++) if (!(rows[k] >= 0 && rows[k] < t.rows)) return false;
    const buffer = this.memory.buffer;
    new Int32Array(buffer, this.rowsAt, rows.length).set(rows);
    if (!staged) new Float32Array(buffer, this.deltaAt, delta.length).set(delta);
    const ws = new Float64Array(buffer, this.weightAt, 2);
    ws[0] = w;
    ws[1] = scale;
    (scale === 1 ? this.add : this.addScaled)(0, rows.length, this.rowsAt, this.deltaAt, t.sums, t.cols, this.weightAt);
    return true;
  }
}
