/**
 * WebAssembly SIMD kernels for dense layers over a minibatch held as matrices (the batched
 * forward and backward of an MLP tower such as NeuMF's, He et al. WWW 2017): the register-blocked
 * product of `kernels.ts` plus the cheap passes around it — bias and ReLU, the ReLU mask of a
 * backward product, and column sums (bias gradients). A module of its own on a private (unshared)
 * memory, so a browser tab that is not cross-origin isolated runs it too. Addresses and strides
 * are in bytes; row ranges are multiples of GEMM_ROWS and widths multiples of GEMM_COLS.
 */
import {
  assemble, f32x4Add, f32x4Gt, f32x4Max, forLoop, get, I32, i32, i32Add, i32Mul, i32Shl, inc, set, V128, v128And,
  v128Load, v128Store, v128Zero, type Code, type FunctionDef,
} from './encoder.js';
import { gemm } from './kernels.js';

export { GEMM_COLS, GEMM_ROWS } from './kernels.js';

/** The kernels, in module order. */
export const DENSE_KERNEL_NAMES = ['gemm', 'biasRelu', 'maskPositive', 'colSums'] as const;
export type DenseKernelName = (typeof DENSE_KERNEL_NAMES)[number];

/** Largest memory the dense kernels may use: 256 MiB (a minibatch's activations and weights). */
export const DENSE_MAX_PAGES = 4096;

/**
 * A kernel (lo, hi, c, ldc, n, ...) visiting the 16-byte vectors of rows [lo, hi) of C (n columns,
 * a multiple of 4): `body` gets the locals of the vector's address `cp` and column byte `jb`.
 */
function overRows(name: DenseKernelName, extra: number, locals: number, body: (cp: number, jb: number, row: number) => Code): FunctionDef {
  const [lo, hi, c, ldc, n] = [0, 1, 2, 3, 4];
  const [r, jb, cp] = [5 + extra, 6 + extra, 7 + extra];
  return {
    name,
    params: 5 + extra,
    locals: [I32, I32, I32, ...new Array(locals).fill(V128)],
    body: forLoop(r, get(lo), get(hi), i32(1), forLoop(jb, i32(0), [get(n), i32(2), i32Shl], i32(16), [
      get(c), get(r), get(ldc), i32Mul, i32Add, get(jb), i32Add, set(cp),
      body(cp, jb, r),
    ])),
  };
}

/** biasRelu(lo, hi, c, ldc, n, bias): C[i, j] = max(C[i, j] + bias[j], 0). */
const biasRelu = (): FunctionDef => overRows('biasRelu', 1, 0, (cp, jb) => [
  get(cp), get(cp), v128Load(0), get(5), get(jb), i32Add, v128Load(0), f32x4Add, v128Zero, f32x4Max, v128Store(0),
]);

/**
 * maskPositive(lo, hi, c, ldc, n, m, ldm): C[i, j] = 0 where M[i, j] ≤ 0 (the ReLU derivative applied
 * to a backward product; M is the layer's post-ReLU output).
 */
const maskPositive = (): FunctionDef => overRows('maskPositive', 2, 0, (cp, jb, r) => [
  get(cp), get(cp), v128Load(0),
  get(5), get(r), get(6), i32Mul, i32Add, get(jb), i32Add, v128Load(0), v128Zero, f32x4Gt, v128And,
  v128Store(0),
]);

/** colSums(lo, hi, c, ldc, n, dst): dst[j] += Σ_{i in [lo, hi)} C[i, j] (any row range). */
function colSums(): FunctionDef {
  const [lo, hi, c, ldc, n, dst] = [0, 1, 2, 3, 4, 5];
  const [r, jb, cp, acc] = [6, 7, 8, 9];
  return {
    name: 'colSums',
    params: 6,
    locals: [I32, I32, I32, V128],
    body: forLoop(jb, i32(0), [get(n), i32(2), i32Shl], i32(16), [
      get(dst), get(jb), i32Add, v128Load(0), set(acc),
      get(c), get(lo), get(ldc), i32Mul, i32Add, get(jb), i32Add, set(cp),
      forLoop(r, get(lo), get(hi), i32(1), [get(acc), get(cp), v128Load(0), f32x4Add, set(acc), inc(cp, get(ldc))]),
      get(dst), get(jb), i32Add, get(acc), v128Store(0),
    ]),
  };
}

/** The module's binary (memory imported as `env.memory`, not shared). */
export function denseKernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([gemm(), biasRelu(), maskPositive(), colSums()], { shared: false, maxPages: DENSE_MAX_PAGES });
}
