/**
 * WebAssembly SIMD kernels (four f32 lanes) for the vector work of matrix-factorisation training
 * (Koren, Bell & Volinsky 2009) on a client's compact tables: the factor dot products of a
 * minibatch, their gradients, the SGD update of touched rows, and gathering / differencing rows
 * against the global table. A module of its own, on a private
 * (unshared) memory, so it also runs in a browser tab that is not cross-origin isolated. Every
 * kernel takes an example or row range [lo, hi) first; addresses and row widths are in bytes, and
 * rows are a multiple of 16 bytes (factor dimensions a multiple of 4).
 */
import {
  assemble, f32Add, f32ReinterpretI32, f32Store, f32x4Add, f32x4ExtractLane, f32x4Mul, f32x4Splat, f32x4Sub, forLoop, get, I32,
  i32, i32Add, i32Load, i32Mul, i32Shl, set, V128, v128Load, v128Load32Splat, v128Store, v128Zero, type Code, type FunctionDef,
} from './encoder.js';

/** The kernels, in module order. */
export const MF_KERNEL_NAMES = ['mfScores', 'mfBackward', 'sgdRows', 'gatherRows', 'subtractRows'] as const;
export type MfKernelName = (typeof MF_KERNEL_NAMES)[number];

/** Largest memory the MF kernels may use: 4 GiB, all a 32-bit WebAssembly memory can address (pages are committed only as it grows). */
export const MF_MAX_PAGES = 65536;

/** Address of row `ids[k]` of the table at `table`: table + ids[k]·rowBytes. */
const rowAt = (table: number, ids: number, k: number, rowBytes: number): Code => [
  get(table), get(ids), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(rowBytes), i32Mul, i32Add,
];

/** Address `base + offset` (two locals). */
const at = (base: number, offset: number): Code => [get(base), get(offset), i32Add];

/**
 * mfScores(lo, hi, users, items, p, q, out, rowBytes): out[k] = p[users[k]] · q[items[k]] (f32) for
 * examples k in [lo, hi); users and items are int32 arrays, p and q row-major tables.
 */
function mfScores(): FunctionDef {
  const [lo, hi, users, items, p, q, out, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [k, pu, qi, fb, acc] = [8, 9, 10, 11, 12];
  return {
    name: 'mfScores',
    params: 8,
    locals: [I32, I32, I32, I32, V128],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(p, users, k, rowBytes), set(pu),
      rowAt(q, items, k, rowBytes), set(qi),
      v128Zero, set(acc),
      forLoop(fb, i32(0), get(rowBytes), i32(16), [
        get(acc), at(pu, fb), v128Load(0), at(qi, fb), v128Load(0), f32x4Mul, f32x4Add, set(acc),
      ]),
      get(out), get(k), i32(2), i32Shl, i32Add,
      [0, 1, 2, 3].map((l) => [get(acc), f32x4ExtractLane(l), l > 0 ? f32Add : []]),
      f32Store(0),
    ]),
  };
}

/**
 * mfBackward(lo, hi, users, items, dScore, p, q, gp, gq, rowBytes): for examples k in [lo, hi),
 * gp[users[k]] += dScore[k] · q[items[k]] and gq[items[k]] += dScore[k] · p[users[k]].
 */
function mfBackward(): FunctionDef {
  const [lo, hi, users, items, dScore, p, q, gp, gq, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [k, pu, qi, gpu, gqi, fb, a] = [10, 11, 12, 13, 14, 15, 16];
  const d = 17;
  const addScaled = (grad: number, other: number): Code => [
    at(grad, fb), set(a),
    get(a), get(a), v128Load(0), get(d), at(other, fb), v128Load(0), f32x4Mul, f32x4Add, v128Store(0),
  ];
  return {
    name: 'mfBackward',
    params: 10,
    locals: [I32, I32, I32, I32, I32, I32, I32, V128],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(p, users, k, rowBytes), set(pu),
      rowAt(q, items, k, rowBytes), set(qi),
      rowAt(gp, users, k, rowBytes), set(gpu),
      rowAt(gq, items, k, rowBytes), set(gqi),
      get(dScore), get(k), i32(2), i32Shl, i32Add, v128Load32Splat(0), set(d),
      forLoop(fb, i32(0), get(rowBytes), i32(16), [addScaled(gpu, qi), addScaled(gqi, pu)]),
    ]),
  };
}

/**
 * sgdRows(lo, hi, rows, theta, grad, rowBytes, lrBits, wdBits): for the listed rows rows[k],
 * k in [lo, hi): θ ← θ − lr·(g + wd·θ), then g ← 0 (lr and wd are f32 bit patterns).
 */
function sgdRows(): FunctionDef {
  const [lo, hi, rows, theta, grad, rowBytes, lrBits, wdBits] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [k, t, g, fb] = [8, 9, 10, 11];
  const [lr, wd, tv] = [12, 13, 14];
  return {
    name: 'sgdRows',
    params: 8,
    locals: [I32, I32, I32, I32, V128, V128, V128],
    body: [
      get(lrBits), f32ReinterpretI32, f32x4Splat, set(lr),
      get(wdBits), f32ReinterpretI32, f32x4Splat, set(wd),
      forLoop(k, get(lo), get(hi), i32(1), [
        rowAt(theta, rows, k, rowBytes), set(t),
        rowAt(grad, rows, k, rowBytes), set(g),
        forLoop(fb, i32(0), get(rowBytes), i32(16), [
          at(t, fb), v128Load(0), set(tv),
          at(t, fb),
          get(tv), get(lr), at(g, fb), v128Load(0), get(wd), get(tv), f32x4Mul, f32x4Add, f32x4Mul, f32x4Sub,
          v128Store(0),
          at(g, fb), v128Zero, v128Store(0),
        ]),
      ]),
    ],
  };
}

/**
 * A kernel (lo, hi, rows, src, dst, rowBytes) that sets dst[k] from src[rows[k]] for k in [lo, hi),
 * sixteen bytes at a time: `combine` gets the two vectors' addresses (to, from) and pushes the new one.
 */
function rowKernel(name: MfKernelName, combine: (to: Code, from: Code) => Code): FunctionDef {
  const [lo, hi, rows, src, dst, rowBytes] = [0, 1, 2, 3, 4, 5];
  const [k, from, to, fb] = [6, 7, 8, 9];
  return {
    name,
    params: 6,
    locals: [I32, I32, I32, I32],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(src, rows, k, rowBytes), set(from),
      get(dst), get(k), get(rowBytes), i32Mul, i32Add, set(to),
      forLoop(fb, i32(0), get(rowBytes), i32(16), [at(to, fb), combine(at(to, fb), at(from, fb)), v128Store(0)]),
    ]),
  };
}

/** gatherRows(lo, hi, rows, src, dst, rowBytes): dst[k] = src[rows[k]] (a compact copy of the listed rows). */
const gatherRows = (): FunctionDef => rowKernel('gatherRows', (_to, from) => [from, v128Load(0)]);

/**
 * subtractRows(lo, hi, rows, src, dst, rowBytes): dst[k] −= src[rows[k]] (turns trained compact rows
 * into their change since they were gathered).
 */
const subtractRows = (): FunctionDef => rowKernel('subtractRows', (to, from) => [to, v128Load(0), from, v128Load(0), f32x4Sub]);

/** The module's binary (memory imported as `env.memory`, not shared). */
export function mfKernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([mfScores(), mfBackward(), sgdRows(), gatherRows(), subtractRows()], { shared: false, maxPages: MF_MAX_PAGES });
}

