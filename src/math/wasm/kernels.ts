/**
 * The WebAssembly SIMD kernels (128-bit, four f32 lanes, float32 arithmetic) behind the graph
 * models' hot loops: a register-blocked dense product, InfoNCE's row-local step (NCL, Lin et al.
 * WWW 2022), CSR × dense (LightGCN propagation, He et al. SIGIR 2020) and squared distances to
 * one row (k-means++, Arthur & Vassilvitskii 2007). Every kernel takes a row range [lo, hi) first,
 * so rows can be dealt to threads; each output row is computed by the same instructions whatever
 * the split, so results do not depend on the number of threads. Addresses and strides are in bytes.
 */
import {
  assemble, call, F32, f32Add, f32Const, f32Div, f32Load, f32Max, f32Mul, f32ReinterpretI32, f32Store, f32Sub,
  f32x4Add, f32x4Const, f32x4ExtractLane, f32x4Ge, f32x4Max, f32x4Mul, f32x4Nearest, f32x4Splat, f32x4Sub, forLoop,
  get, I32, i32, i32Add, i32Load, i32LtU, i32Mul, i32Shl, i32x4Add, i32x4Const, i32x4Shl, i32x4TruncSatF32x4S,
  ifElse, inc, select, set, V128, v128And, v128Load, v128Load32Splat, v128Store, v128Zero,
  type Code, type FunctionDef, type ValueType,
} from './encoder.js';

/** The kernels the heap runs (a job names its kernel by its index here). */
export const KERNEL_NAMES = ['gemm', 'spmm', 'sqdist', 'infonce'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** Function indices in the module, for calls between kernels (the order of `kernelModuleBytes`). */
const GEMM = 0;
const SOFTMAX = 4;

/** Rows a gemm call works on at a time: row ranges must be multiples of this. */
export const GEMM_ROWS = 4;
/** Columns a gemm call works on at a time: n must be a multiple of this. */
export const GEMM_COLS = 8;
/** spmm works on blocks of this many columns: dense rows must be a multiple of it. */
export const SPMM_COLS = 32;

/**
 * gemm(lo, hi, x, xRow, xCol, y, ldy, c, ldc, n, k, accumulate): C[i, 0..n) = Σ_p X[i, p] · Y[p, 0..n)
 * (or C += that, when accumulate ≠ 0) for rows i in [lo, hi), where X[i, p] is at x + i·xRow + p·xCol
 * (so X may be a transposed view) and Y, C are row-major with row strides ldy, ldc. Tiles of
 * 4 rows × 8 columns: eight f32x4 accumulators, one splatted X value and two Y vectors per step of p.
 */
export function gemm(): FunctionDef {
  const [lo, hi, x, xRow, xCol, y, ldy, c, ldc, n, k, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [i, jb, p, yp, cp, cq] = [12, 13, 14, 15, 16, 17];
  const rows = [0, 1, 2, 3];
  const xp = (r: number) => 18 + r; // X addresses of the tile's rows at the current p
  const acc = (r: number, h: number) => 22 + 2 * r + h;
  const [y0, y1, xv] = [30, 31, 32];
  const madd = (a: number, v: number): Code => [get(a), get(xv), get(v), f32x4Mul, f32x4Add, set(a)];
  const step: Code = [
    get(yp), v128Load(0), set(y0),
    get(yp), v128Load(16), set(y1),
    rows.map((r) => [get(xp(r)), v128Load32Splat(0), set(xv), madd(acc(r, 0), y0), madd(acc(r, 1), y1), inc(xp(r), get(xCol))]),
    inc(yp, get(ldy)),
  ];
  return {
    name: 'gemm',
    params: 12,
    locals: [...new Array<ValueType>(10).fill(I32), ...new Array<ValueType>(11).fill(V128)],
    body: forLoop(i, get(lo), get(hi), i32(GEMM_ROWS), forLoop(jb, i32(0), [get(n), i32(2), i32Shl], i32(4 * GEMM_COLS), [
      get(c), get(i), get(ldc), i32Mul, i32Add, get(jb), i32Add, set(cp),
      ifElse(
        get(accumulate),
        [get(cp), set(cq), rows.map((r) => [get(cq), v128Load(0), set(acc(r, 0)), get(cq), v128Load(16), set(acc(r, 1)), inc(cq, get(ldc))])],
        rows.map((r) => [v128Zero, set(acc(r, 0)), v128Zero, set(acc(r, 1))]),
      ),
      get(x), get(i), get(xRow), i32Mul, i32Add, set(xp(0)),
      [1, 2, 3].map((r) => [get(xp(r - 1)), get(xRow), i32Add, set(xp(r))]),
      get(y), get(jb), i32Add, set(yp),
      forLoop(p, i32(0), get(k), i32(1), step),
      rows.map((r) => [get(cp), get(acc(r, 0)), v128Store(0), get(cp), get(acc(r, 1)), v128Store(16), inc(cp, get(ldc))]),
    ])),
  };
}

/**
 * spmm(lo, hi, indptr, indices, values, x, out, rowBytes): out[r] = Σ_k values[k] · x[indices[k]] for
 * CSR rows r in [lo, hi) (int32 indptr / indices, f32 values), dense rows of rowBytes (a multiple of
 * 4·SPMM_COLS). Per block of 32 columns: eight f32x4 accumulators over the row's entries.
 */
function spmm(): FunctionDef {
  const [lo, hi, indptr, indices, values, x, out, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, fb, kp, kBeg, kEnd, xo, op] = [8, 9, 10, 11, 12, 13, 14];
  const vectors = SPMM_COLS / 4;
  const acc = (q: number) => 15 + q;
  const w = 15 + vectors;
  const blocks = Array.from({ length: vectors }, (_, q) => q);
  return {
    name: 'spmm',
    params: 8,
    locals: [...new Array<ValueType>(7).fill(I32), ...new Array<ValueType>(vectors + 1).fill(V128)],
    body: forLoop(r, get(lo), get(hi), i32(1), [
      get(indptr), get(r), i32(2), i32Shl, i32Add, set(op),
      get(op), i32Load(0), i32(2), i32Shl, set(kBeg),
      get(op), i32Load(4), i32(2), i32Shl, set(kEnd),
      get(out), get(r), get(rowBytes), i32Mul, i32Add, set(op),
      forLoop(fb, i32(0), get(rowBytes), i32(4 * SPMM_COLS), [
        blocks.map((q) => [v128Zero, set(acc(q))]),
        forLoop(kp, get(kBeg), get(kEnd), i32(4), [
          get(values), get(kp), i32Add, v128Load32Splat(0), set(w),
          get(indices), get(kp), i32Add, i32Load(0), get(rowBytes), i32Mul, get(x), i32Add, get(fb), i32Add, set(xo),
          blocks.map((q) => [get(acc(q)), get(xo), v128Load(16 * q), get(w), f32x4Mul, f32x4Add, set(acc(q))]),
        ]),
        blocks.map((q) => [get(op), get(acc(q)), v128Store(16 * q)]),
        inc(op, i32(4 * SPMM_COLS)),
      ]),
    ]),
  };
}

/**
 * exp of the four lanes of local `x` (x ≤ 0; consumed), pushed on the stack: Cephes' expf (range
 * reduction x = n·ln 2 + r with ln 2 split in two, degree-6 polynomial for e^r, 2^n built in the
 * exponent bits), ≤ 2 ulp; below ln(FLT_MIN) the result is 0. Uses locals keep, n, r.
 */
export function exp4(x: number, keep: number, n: number, r: number): Code {
  const LOW = -87.33654; // ln(FLT_MIN)
  const horner = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  return [
    get(x), f32x4Const(LOW), f32x4Ge, set(keep),
    get(x), f32x4Const(LOW), f32x4Max, set(x),
    get(x), f32x4Const(Math.LOG2E), f32x4Mul, f32x4Nearest, set(n),
    get(x), get(n), f32x4Const(0.693359375), f32x4Mul, f32x4Sub, get(n), f32x4Const(-2.12194440e-4), f32x4Mul, f32x4Sub, set(r),
    f32x4Const(horner[0]), horner.slice(1).map((h) => [get(r), f32x4Mul, f32x4Const(h), f32x4Add]),
    get(r), get(r), f32x4Mul, f32x4Mul, get(r), f32x4Add, f32x4Const(1), f32x4Add,
    get(n), i32x4TruncSatF32x4S, i32x4Const(127), i32x4Add, i32(23), i32x4Shl, f32x4Mul,
    get(keep), v128And,
  ];
}

/**
 * softmax(lo, hi, s, lds, width, nT, invT, weights, positives, sums, maxes, posLogits): for rows a in
 * [lo, hi) of the logits S (row stride lds, `width` columns, a multiple of 4, of which the first nT
 * are real): posLogits[a] = S[a, p_a]; columns nT .. width are set to −∞; m = max_j S[a, j],
 * e_j = exp((S[a, j] − m)·invT), Σ = Σ_j e_j; S[a] becomes the InfoNCE logit gradient
 * w_a·invT·(e_j / Σ − [j = p_a]) (0 on padding); maxes[a] = m, sums[a] = Σ (the caller adds the
 * loss). invT is passed as its float32 bit pattern; weights f32, positives i32 (column of p_a).
 */
function softmax(): FunctionDef {
  const [lo, hi, s, lds, width, nT, invTBits, weights, positives, sums, maxes, posLogits] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [a, rp, q, end, at] = [12, 13, 14, 15, 16];
  const [m, sum, c] = [17, 18, 19];
  const [acc, v, mv, invT, keep, n, r] = [20, 21, 22, 23, 24, 25, 26];
  const lanes = (reduce: Code): Code => [0, 1, 2, 3].map((l) => [get(acc), f32x4ExtractLane(l), l > 0 ? reduce : []]);
  const rowWord = (base: number): Code => [get(base), get(a), i32(2), i32Shl, i32Add];
  const overRow = (body: Code): Code => forLoop(q, get(rp), get(end), i32(16), body);
  return {
    name: 'softmax',
    params: 12,
    locals: [I32, I32, I32, I32, I32, F32, F32, F32, V128, V128, V128, V128, V128, V128, V128],
    body: [
      get(invTBits), f32ReinterpretI32, f32x4Splat, set(invT),
      forLoop(a, get(lo), get(hi), i32(1), [
        get(s), get(a), get(lds), i32Mul, i32Add, set(rp),
        get(rp), get(width), i32(2), i32Shl, i32Add, set(end),
        rowWord(positives), i32Load(0), i32(2), i32Shl, get(rp), i32Add, set(at),
        rowWord(posLogits), get(at), f32Load(0), f32Store(0),
        forLoop(q, [get(rp), get(nT), i32(2), i32Shl, i32Add], get(end), i32(4), [get(q), f32Const(-Infinity), f32Store(0)]),
        f32x4Const(-Infinity), set(acc),
        overRow([get(acc), get(q), v128Load(0), f32x4Max, set(acc)]),
        lanes(f32Max), set(m),
        rowWord(maxes), get(m), f32Store(0),
        get(m), f32x4Splat, set(mv),
        v128Zero, set(acc),
        overRow([
          get(q), v128Load(0), get(mv), f32x4Sub, get(invT), f32x4Mul, set(v),
          exp4(v, keep, n, r), set(v),
          get(q), get(v), v128Store(0),
          get(acc), get(v), f32x4Add, set(acc),
        ]),
        lanes(f32Add), set(sum),
        rowWord(sums), get(sum), f32Store(0),
        rowWord(weights), f32Load(0), get(invTBits), f32ReinterpretI32, f32Mul, set(c),
        get(c), get(sum), f32Div, f32x4Splat, set(v),
        overRow([get(q), get(q), v128Load(0), get(v), f32x4Mul, v128Store(0)]),
        get(at), get(at), f32Load(0), get(c), f32Sub, f32Store(0),
      ]),
    ],
  };
}

/**
 * infonce(lo, hi, a, tt, s, t, ga, dim, width, nT, valid, invT, weights, positives, sums, maxes,
 * posLogits): the row-local part of InfoNCE for anchor rows [lo, hi) (multiples of GEMM_ROWS):
 * logits S = Â·T̂ᵀ (Â [*, dim] at a, T̂ᵀ [dim, width] at tt, S [*, width] at s), `softmax` on the
 * rows below `valid` (later rows are padding: their logits and gradients stay 0), then
 * ∂/∂Â = G·T̂ (T̂ [width, dim] at t, result [*, dim] at ga). One call per chunk of rows keeps the
 * chunk's logits in cache from the product to the gradient.
 */
function infonce(): FunctionDef {
  const [lo, hi, a, tt, s, t, ga, dim, width, nT, valid] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const rowData = [11, 12, 13, 14, 15, 16]; // invT, weights, positives, sums, maxes, posLogits
  const bytes = (n: number): Code => [get(n), i32(2), i32Shl];
  return {
    name: 'infonce',
    params: 17,
    locals: [],
    body: [
      get(lo), get(hi), get(a), bytes(dim), i32(4), get(tt), bytes(width), get(s), bytes(width), get(width), get(dim), i32(0), call(GEMM),
      get(lo), [get(hi), get(valid), get(hi), get(valid), i32LtU, select], get(s), bytes(width), get(width), get(nT), rowData.map(get), call(SOFTMAX),
      get(lo), get(hi), get(s), bytes(width), i32(4), get(t), bytes(dim), get(ga), bytes(dim), get(dim), get(width), i32(0), call(GEMM),
    ],
  };
}

/**
 * sqdist(lo, hi, x, rowBytes, c, out): out[r] = ‖x[r] − c‖² (f32) for rows r in [lo, hi) of x
 * (row-major, rowBytes a multiple of 16) against one row c of the same width.
 */
function sqdist(): FunctionDef {
  const [lo, hi, x, rowBytes, c, out] = [0, 1, 2, 3, 4, 5];
  const [r, xp, fb] = [6, 7, 8];
  const [acc, d] = [9, 10];
  return {
    name: 'sqdist',
    params: 6,
    locals: [I32, I32, I32, V128, V128],
    body: forLoop(r, get(lo), get(hi), i32(1), [
      get(x), get(r), get(rowBytes), i32Mul, i32Add, set(xp),
      v128Zero, set(acc),
      forLoop(fb, i32(0), get(rowBytes), i32(16), [
        get(xp), get(fb), i32Add, v128Load(0), get(c), get(fb), i32Add, v128Load(0), f32x4Sub, set(d),
        get(acc), get(d), get(d), f32x4Mul, f32x4Add, set(acc),
      ]),
      get(out), get(r), i32(2), i32Shl, i32Add,
      [0, 1, 2, 3].map((l) => [get(acc), f32x4ExtractLane(l), l > 0 ? f32Add : []]),
      f32Store(0),
    ]),
  };
}

/** Largest memory the kernels may use: 1 GiB. */
export const MAX_PAGES = 16384;

/** The kernel module's binary (memory imported as `env.memory`, shared so helper threads can use it). */
export function kernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([gemm(), spmm(), sqdist(), infonce(), softmax()], { shared: true, maxPages: MAX_PAGES });
}
