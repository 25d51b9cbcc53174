/**
 * WebAssembly SIMD kernels for graph aggregation's propagation (federated/graph.ts: UFGraphFR /
 * GPFedRec, R = S''·A over row-sparse item tables, Eq. 16–17). Each kernel does the operations of
 * the JavaScript loop it replaces in the same order — float32 values widened to float64, float64
 * products and sums, float32 stores rounded to nearest — two values per step (f64x2), so results
 * are bit-identical to that loop. A module of its own on a private, growable memory.
 * Tables are row-major with `dBytes` = 4·d bytes per row, d even.
 */
import {
  assemble, f32x4DemoteF64x2Zero, f64Add, f64Load, f64Store, f64x2Add, f64x2Mul, f64x2PromoteLowF32x4, f64x2Splat, forLoop, get, I32, i32, i32Add, i32Load,
  i32Mul, i32Shl, i32Sub, ifThen, set, V128, v128Load, v128Load64Zero, v128Store, type Code, type FunctionDef,
} from './encoder.js';
import { growTo, PAGE } from './memory.js';

// SIMD opcodes the shared encoder does not have (fixed-width SIMD proposal numbering).
const f64x2Sub: Code = [0xfd, 0xf1, 0x01];
/** Stores the low 8 bytes (two f32 lanes) of a v128. */
const v128Store64Lane0: Code = [0xfd, 0x5b, 3, 0, 0];

/** Pages the memory may grow to (4 GiB, wasm32's limit). */
const MAX_PAGES = 65536;

/** Two f32 at `addr` widened to an f64x2. */
const loadPair = (addr: Code): Code => [addr, v128Load64Zero(0), f64x2PromoteLowF32x4];

/**
 * rowsAxpy(out, slot, rows, n, y, dBytes, paramsAt): for b in [0, n) with s = slot[rows[b]] ≠ 0,
 * out row (s − 1) += w · y row b, each value float32(float64(out) + w · float64(y)); w the f64 at
 * paramsAt. The sparse, row-aligned scaled sum of one neighbour's rows into a user's rows.
 */
function rowsAxpy(): FunctionDef {
  const [out, slot, rows, n, y, dBytes, paramsAt] = [0, 1, 2, 3, 4, 5, 6];
  const [b, s, dst, src, end] = [7, 8, 9, 10, 11];
  const w = 12;
  return {
    name: 'rowsAxpy',
    params: 7,
    locals: [I32, I32, I32, I32, I32, V128],
    body: [
      get(paramsAt), f64Load(0), f64x2Splat, set(w),
      forLoop(b, i32(0), get(n), i32(1), [
        get(slot), get(rows), get(b), i32(2), i32Shl, i32Add, i32Load(0), i32(2), i32Shl, i32Add, i32Load(0), set(s),
        ifThen(get(s), [
          get(out), get(s), i32(1), i32Sub, get(dBytes), i32Mul, i32Add, set(dst),
          get(y), get(b), get(dBytes), i32Mul, i32Add, set(src),
          get(dst), get(dBytes), i32Add, set(end),
          forLoop(dst, get(dst), get(end), i32(8), [
            get(dst),
            loadPair(get(dst)), get(w), loadPair(get(src)), f64x2Mul, f64x2Add, f32x4DemoteF64x2Zero,
            v128Store64Lane0,
            get(src), i32(8), i32Add, set(src),
          ]),
        ]),
      ]),
    ],
  };
}

/**
 * eq17Sums(rows, n, y, theta, num, den, dBytes, paramsAt): for k in [0, n), r = rows[k]:
 * den[r] += deg; num[r·d + f] += deg · (cm1 · float64(theta[r·d + f]) + float64(y[k·d + f])).
 * deg, cm1 the f64s at paramsAt, paramsAt + 8; num, den float64. Eq. 17's numerator and denominator.
 */
function eq17Sums(): FunctionDef {
  const [rows, n, y, theta, num, den, dBytes, paramsAt] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [k, r, th, nm, src, end] = [8, 9, 10, 11, 12, 13];
  const [deg, cm1] = [14, 15];
  return {
    name: 'eq17Sums',
    params: 8,
    locals: [I32, I32, I32, I32, I32, I32, V128, V128],
    body: [
      get(paramsAt), f64Load(0), f64x2Splat, set(deg),
      get(paramsAt), f64Load(8), f64x2Splat, set(cm1),
      get(y), set(src),
      forLoop(k, i32(0), get(n), i32(1), [
        get(rows), get(k), i32(2), i32Shl, i32Add, i32Load(0), set(r),
        get(den), get(r), i32(3), i32Shl, i32Add, set(nm),
        get(nm), get(nm), f64Load(0), get(paramsAt), f64Load(0), f64Add, f64Store(0),
        get(theta), get(r), get(dBytes), i32Mul, i32Add, set(th),
        get(num), get(r), get(dBytes), i32Mul, i32(1), i32Shl, i32Add, set(nm),
        get(th), get(dBytes), i32Add, set(end),
        forLoop(th, get(th), get(end), i32(8), [
          get(nm),
          get(nm), v128Load(0),
          get(deg), get(cm1), loadPair(get(th)), f64x2Mul, loadPair(get(src)), f64x2Add, f64x2Mul,
          f64x2Add,
          v128Store(0),
          get(src), i32(8), i32Add, set(src),
          get(nm), i32(16), i32Add, set(nm),
        ]),
      ]),
    ],
  };
}

/**
 * personalRows(rows, n, v, theta, ref, dBytes, paramsAt): for k in [0, n), r = rows[k]:
 * v[k·d + f] = float32(float64(v) + (cu · float64(theta[r·d + f]) − float64(ref[r·d + f])));
 * cu the f64 at paramsAt. A user's personal rows Δ_u = R_u − θ_global from R_u = cu·θ + Y.
 */
function personalRows(): FunctionDef {
  const [rows, n, v, theta, ref, dBytes, paramsAt] = [0, 1, 2, 3, 4, 5, 6];
  const [k, off, at, end] = [7, 8, 9, 10];
  const cu = 11;
  return {
    name: 'personalRows',
    params: 7,
    locals: [I32, I32, I32, I32, V128],
    body: [
      get(paramsAt), f64Load(0), f64x2Splat, set(cu),
      get(v), set(at),
      forLoop(k, i32(0), get(n), i32(1), [
        get(rows), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(dBytes), i32Mul, set(off),
        get(at), get(dBytes), i32Add, set(end),
        forLoop(at, get(at), get(end), i32(8), [
          get(at),
          loadPair(get(at)),
          get(cu), loadPair([get(theta), get(off), i32Add]), f64x2Mul, loadPair([get(ref), get(off), i32Add]), f64x2Sub,
          f64x2Add, f32x4DemoteF64x2Zero,
          v128Store64Lane0,
          get(off), i32(8), i32Add, set(off),
        ]),
      ]),
    ],
  };
}

export function graphKernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([rowsAxpy(), eq17Sums(), personalRows()], { shared: false, maxPages: MAX_PAGES });
}

type Kernel = (...args: number[]) => void;
let compiled: WebAssembly.Module | null = null;
let supported: boolean | null = null;

/** Whether this runtime has WebAssembly with fixed-width SIMD (and the module validates). */
export function graphSimdSupported(): boolean {
  supported ??= typeof WebAssembly === 'object' && WebAssembly.validate(graphKernelModuleBytes());
  return supported;
}

/**
 * The kernels on a private memory the caller lays out (byte offsets, 16-byte aligned by `alloc`).
 * `reserve` may grow the memory, which invalidates earlier views: take views after it.
 */
export class GraphKernels {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  readonly rowsAxpy: Kernel;
  readonly eq17Sums: Kernel;
  readonly personalRows: Kernel;
  private top = 0;

  constructor() {
    compiled ??= new WebAssembly.Module(graphKernelModuleBytes());
    const exports = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports;
    this.rowsAxpy = exports.rowsAxpy as Kernel;
    this.eq17Sums = exports.eq17Sums as Kernel;
    this.personalRows = exports.personalRows as Kernel;
  }

  /** Starts a new layout (everything allocated before is released). */
  reset(): void {
    this.top = 0;
  }

  /** Byte offset of `bytes` bytes, 16-byte aligned (contents undefined until written). */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = at + Math.ceil(bytes / 16) * 16;
    return at;
  }

  /** Grows the memory to hold everything allocated so far. */
  reserve(): void {
    growTo(this.memory, Math.max(this.top, PAGE), MAX_PAGES, 'graph aggregation kernels');
  }

  /** Bytes the memory holds now (it never shrinks). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }

  f64(at: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, length);
  }
}
