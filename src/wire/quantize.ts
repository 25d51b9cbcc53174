/**
 * Lossy model downloads: the embedding tables of a model message (item-indexed, ≥ 8 columns: the
 * bulk of the bytes) as IEEE-754 half precision ('f16', 2 bytes a value) or as 8-bit integers with
 * one float32 scale per row ('q8', symmetric absmax per row, as in LLM.int8()'s vector-wise
 * quantisation, Dettmers et al. 2022; ~1 byte a value). Other tables stay float32. The server keeps
 * float32 master weights; a device trains on, and scores with, the dequantised tables, and the
 * simulation hands its clients the same dequantised tables (`downloadedModel`), so a deployed run
 * still equals the simulated one. Packed values travel in i32 words (little-endian, 2 or 4 a word).
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';

export type DownloadPrecision = 'f32' | 'f16' | 'q8';

/** Tables worth quantising: item embeddings (≥ 8 columns). */
export function quantizedTable(p: ParamInfo): boolean {
  return p.scope === 'global' && p.index === 'item' && p.cols >= 8;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even; overflow to ±Infinity, NaN kept. */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** float16 bits → number (exact). */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function packHalf(values: Float32Array): Int32Array {
  const out = new Int32Array(Math.ceil(values.length / 2));
  for (let k = 0; k < values.length; k++) out[k >> 1] |= toHalf(values[k]) << ((k & 1) * 16);
  return out;
}

export function unpackHalf(words: Int32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = fromHalf((words[k >> 1] >>> ((k & 1) * 16)) & 0xffff);
  return out;
}

/** 8-bit codes (4 a word) and one scale per row of `cols` values: x ≈ code · scale, code ∈ [−127, 127]. */
export function packQ8(values: Float32Array, cols: number): { words: Int32Array; scales: Float32Array } {
  const rows = values.length / cols;
  const words = new Int32Array(Math.ceil(values.length / 4));
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let f = 0; f < cols; f++) max = Math.max(max, Math.abs(values[r * cols + f]));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let f = 0; f < cols; f++) {
      const k = r * cols + f;
      const code = Math.max(-127, Math.min(127, Math.round(values[k] / scale)));
      words[k >> 2] |= (code & 0xff) << ((k & 3) * 8);
    }
  }
  return { words, scales };
}

export function unpackQ8(words: Int32Array, scales: Float32Array, n: number): Float32Array {
  const cols = n / scales.length;
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const code = ((words[k >> 2] >>> ((k & 3) * 8)) << 24) >> 24; // sign-extend the byte
    out[k] = code * scales[Math.floor(k / cols)];
  }
  return out;
}

/** The values a device gets for `values` (cols wide) at `precision`: what dequantisation of the wire form yields. */
export function roundTrip(values: Float32Array, cols: number, precision: DownloadPrecision): Float32Array {
  if (precision === 'f16') return unpackHalf(packHalf(values), values.length);
  if (precision === 'q8') {
    const { words, scales } = packQ8(values, cols);
    return unpackQ8(words, scales, values.length);
  }
  return values;
}

/**
 * The global tables as a device receives them at `precision` (quantised tables dequantised, the
 * others the same arrays): what the simulation trains its clients on and evaluates with.
 */
export function downloadedModel(global: GlobalParams, info: readonly ParamInfo[], precision: DownloadPrecision): GlobalParams {
  if (precision === 'f32') return global;
  const out: Record<string, Float32Array> = { ...global };
  for (const p of info) if (quantizedTable(p) && global[p.name]) out[p.name] = roundTrip(global[p.name], p.cols, precision);
  return out;
}

/** Bytes of the tables' values at `precision` (as bytes.ts counts float32: headers excluded). */
export function downloadBytes(global: GlobalParams, info: readonly ParamInfo[], precision: DownloadPrecision): number {
  let n = 0;
  const quantized = new Map(info.filter(quantizedTable).map((p) => [p.name, p]));
  for (const [name, t] of Object.entries(global)) {
    const p = quantized.get(name);
    if (!p || precision === 'f32') n += t.length * 4;
    else if (precision === 'f16') n += Math.ceil(t.length / 2) * 4;
    else n += Math.ceil(t.length / 4) * 4 + (t.length / p.cols) * 4;
  }
  return n;
}
