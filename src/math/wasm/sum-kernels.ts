/**
 * WebAssembly SIMD kernel for the server's running sums of client updates (FedAvg, McMahan et al.
 * 2017): float64 sums of weighted float32 row deltas, scattered to the rows each client touched.
 * Each sum is updated as `sum + w·float64(delta)`, the very operations of the JavaScript loop, so
 * the sums are bit-identical to it. A module of its own on a private memory (the accumulator's).
 */
import {
  assemble, f64Load, f64x2Add, f64x2Mul, f64x2PromoteLowF32x4, f64x2Splat, forLoop, get, I32, i32, i32Add, i32Load, i32Mul, i32Shl, set,
  V128, v128Load, v128Load64Zero, v128Store, type FunctionDef,
} from './encoder.js';

export const SUM_KERNEL_NAMES = ['addRowsF64'] as const;

/**
 * addRowsF64(lo, hi, rows, delta, sums, cols, weightAt): for k in [lo, hi),
 * sums[rows[k]·cols + f] += w · delta[k·cols + f] for f < cols (an even count); delta f32 rows,
 * sums f64 rows, w the f64 at weightAt.
 */
function addRowsF64(): FunctionDef {
  const [lo, hi, rows, delta, sums, cols, weightAt] = [0, 1, 2, 3, 4, 5, 6];
  const [k, src, dst, end] = [7, 8, 9, 10];
  const w = 11;
  return {
    name: 'addRowsF64',
    params: 7,
    locals: [I32, I32, I32, I32, V128],
    body: [
      get(weightAt), f64Load(0), f64x2Splat, set(w),
      get(delta), get(lo), get(cols), i32Mul, i32(2), i32Shl, i32Add, set(src),
      forLoop(k, get(lo), get(hi), i32(1), [
        get(sums), get(rows), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(cols), i32Mul, i32(3), i32Shl, i32Add, set(dst),
        get(dst), get(cols), i32(3), i32Shl, i32Add, set(end),
        forLoop(dst, get(dst), get(end), i32(16), [
          get(dst), get(dst), v128Load(0), get(w), get(src), v128Load64Zero(0), f64x2PromoteLowF32x4, f64x2Mul, f64x2Add, v128Store(0),
          get(src), i32(8), i32Add, set(src),
        ]),
      ]),
    ],
  };
}

/** The module's binary (memory imported as `env.memory`, not shared). */
export function sumKernelModuleBytes(maxPages: number): Uint8Array<ArrayBuffer> {
  return assemble([addRowsF64()], { shared: false, maxPages });
}
