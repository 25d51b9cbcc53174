/**
 * WebAssembly SIMD kernels for graph aggregation's propagation (federated/graph.ts: UFGraphFR /
 * GPFedRec, R = S''·A over row-sparse item tables, Eq. 16–17). Each kernel does the operations of
 * the JavaScript loop it replaces in the same order — float32 values widened to float64, float64
 * products and sums, float32 stores rounded to nearest — two values per step (f64x2), so results
 * are bit-identical to that loop. A module of its own on a private, growable memory.
 * Tables are row-major with `dBytes` = 4·d bytes per row, d even.
 */
import {
  assemble, f32x4DemoteF64x2Zero, f32x4Sub, f64Add, f64Load, f64Store, f64x2Add, f64x2Mul, f64x2Sub, f64x2PromoteLowF32x4, f64x2Splat, forLoop, get, I32, i32, i32Add, i32Load,
  i32And, i32Mul, i32Shl, i32Sub, ifThen, set, V128, v128Load, v128Load64Zero, v128Store, v128Store64Lane, type Code, type FunctionDef,
} from './encoder.js';
import { growTo, PAGE } from './memory.js';

/** Pages the memory may grow to (4 GiB, wasm32's limit). */
const MAX_PAGES = 65536;

/** Two f32 at `addr` + offset widened to an f64x2. */
const loadPair = (addr: Code, offset = 0): Code => [addr, v128Load64Zero(offset), f64x2PromoteLowF32x4];

/**
 * for (p = from; p < from + bytes; p += 8) body(p-relative offset), unrolled four times (32 bytes
 * a step) over the whole multiples of 32, then 8 bytes a step; `at` advances, `end` is scratch.
 * `body(offset)` works on the two floats at the locals it reads plus `offset` bytes, `next(step)` advances them.
 */
function pairs(at: number, end: number, bytes: Code, body: (offset: number) => Code, next: (step: number) => Code): Code {
  return [
    get(at), bytes, i32(-32), i32And, i32Add, set(end),
    forLoop(at, get(at), get(end), i32(32), [[0, 8, 16, 24].map(body), next(32)]),
    get(at), bytes, i32(31), i32And, i32Add, set(end),
    forLoop(at, get(at), get(end), i32(8), [body(0), next(8)]),
  ];
}

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
          pairs(dst, end, get(dBytes), (q) => [
            get(dst),
            loadPair(get(dst), q), get(w), loadPair(get(src), q), f64x2Mul, f64x2Add, f32x4DemoteF64x2Zero,
            v128Store64Lane(q),
          ], (step) => [get(src), i32(step), i32Add, set(src)]),
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
        pairs(th, end, get(dBytes), (q) => [
          get(nm),
          get(nm), v128Load(2 * q),
          get(deg), get(cm1), loadPair(get(th), q), f64x2Mul, loadPair(get(src), q), f64x2Add, f64x2Mul,
          f64x2Add,
          v128Store(2 * q),
        ], (step) => [get(src), i32(step), i32Add, set(src), get(nm), i32(2 * step), i32Add, set(nm)]),
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
        pairs(at, end, get(dBytes), (q) => [
          get(at),
          loadPair(get(at), q),
          get(cu), loadPair([get(theta), get(off), i32Add], q), f64x2Mul, loadPair([get(ref), get(off), i32Add], q), f64x2Sub,
          f64x2Add, f32x4DemoteF64x2Zero,
          v128Store64Lane(q),
        ], (step) => [get(off), i32(step), i32Add, set(off)]),
      ]),
    ],
  };
}

/**
 * minusRows(rows, n, values, theta, dBytes): values[k·d + f] −= theta[rows[k]·d + f] in float32,
 * four at a time (dBytes a multiple of 16) — the JavaScript `delta[i] -= theta[j]` on float32 arrays
 * exactly (a float64 difference of two float32 rounded to float32 is the float32 difference).
 */
function minusRows(): FunctionDef {
  const [rows, n, values, theta, dBytes] = [0, 1, 2, 3, 4];
  const [k, at, th, end] = [5, 6, 7, 8];
  return {
    name: 'minusRows',
    params: 5,
    locals: [I32, I32, I32, I32],
    body: [
      get(values), set(at),
      forLoop(k, i32(0), get(n), i32(1), [
        get(theta), get(rows), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(dBytes), i32Mul, i32Add, set(th),
        get(at), get(dBytes), i32Add, set(end),
        forLoop(at, get(at), get(end), i32(16), [
          get(at), get(at), v128Load(0), get(th), v128Load(0), f32x4Sub, v128Store(0),
          get(th), i32(16), i32Add, set(th),
        ]),
      ]),
    ],
  };
}

export function graphKernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([rowsAxpy(), eq17Sums(), personalRows(), minusRows()], { shared: false, maxPages: MAX_PAGES });
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
  readonly minusRows: Kernel;
  private top = 0;

  constructor() {
    compiled ??= new WebAssembly.Module(graphKernelModuleBytes());
    const exports = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports;
    this.rowsAxpy = exports.rowsAxpy as Kernel;
    this.eq17Sums = exports.eq17Sums as Kernel;
    this.personalRows = exports.personalRows as Kernel;
    this.minusRows = exports.minusRows as Kernel;
  }

  /** Starts a new layout from byte `top` (everything allocated from there on is released). */
  reset(top = 0): void {
    this.top = top;
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
