/**
 * Fixed-point encoding of a client update into the ring Z_2^64, the space secure aggregation masks
 * and sums in (Bonawitz et al., CCS 2017, §3: inputs are vectors over Z_R). Each value takes two
 * 32-bit words (low, high; two's complement), a vector of 2·slots words. The vector is dense — every
 * row of every item table, so the masked vector cannot say which rows a client touched:
 *
 *   [ w·Δ of each global table in layout order, item tables over all nItems rows (untouched rows 0) ]
 *   [ per-item row weight: w where the client touched the row, else 0 ]   (for 'touched' averaging)
 *   [ w ] [ w·loss ] [ 1 ]                                               (total weight, loss, clients)
 *
 * Why 64 bits: w (a client's examples, up to ~4000 on ML-100K) times a bias delta (up to ~1) reaches
 * ~2300 while embedding deltas are ~1e-3: with n ≈ 1000 clients a 32-bit ring would leave ~9 bits
 * of resolution at a bound covering the biases. Each w·Δ (and w·loss) is clipped to [−clip, clip]
 * and encoded as round(v · scale) with scale = 2^⌊log2(min(2^63 / (n · clip), 2^53 / clip))⌋, so
 * the sum of n clients stays inside the signed 64-bit range (no overflow) and every encoded value is
 * an exact double: the secure sum equals the sum of the rounded values, and differs from the float
 * sum by at most n / (2 · scale) per value. w is a whole number (uniform weighting: 1).
 */
import type { ParamInfo } from '../models/types.js';
import type { PartialAggregate } from '../federated/aggregate.js';
import type { GlobalUpdate } from '../federated/types.js';

/** One global table's place in the vector. */
export interface TableSlot {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  /** Item-indexed (a client's update carries some of its rows) or dense (always whole). */
  readonly item: boolean;
}

export interface Encoding {
  readonly tables: readonly TableSlot[];
  readonly nItems: number;
  /** Clients the round was planned for: the bound the scales are computed from. */
  readonly participants: number;
  /** Bound on |w·Δ| per value. */
  readonly clip: number;
  readonly weighting: 'examples' | 'uniform';
}

const TWO32 = 4294967296;

export function tableSlots(info: readonly ParamInfo[]): TableSlot[] {
  return info.filter((p) => p.scope === 'global').map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, item: p.index === 'item' }));
}

/** Values in the vector (each two 32-bit words). */
export function slotCount(e: Encoding): number {
  return e.tables.reduce((n, t) => n + t.rows * t.cols, 0) + e.nItems + 3;
}

/** Length of the encoded vector in 32-bit words. */
export function vectorLength(e: Encoding): number {
  return 2 * slotCount(e);
}

export function valueScale(e: Encoding): number {
  return 2 ** Math.floor(Math.log2(Math.min(2 ** 63 / (e.participants * e.clip), 2 ** 53 / e.clip)));
}

/** Largest weight a client may carry (the sum of n weights stays far inside 2^53). */
export const MAX_WEIGHT = 2 ** 31;

/** The weight a client's update carries in the sum (whole, bounded). */
export function encodedWeight(e: Encoding, weight: number): number {
  const w = e.weighting === 'uniform' ? (weight > 0 ? 1 : 0) : Math.round(weight);
  return Math.max(0, Math.min(MAX_WEIGHT, w));
}

export interface Encoded {
  readonly vector: Uint32Array;
  /** Values that hit the clipping bound. */
  readonly clipped: number;
}

export function encodeUpdate(e: Encoding, update: GlobalUpdate): Encoded {
  const out = new Uint32Array(vectorLength(e));
  const w = encodedWeight(e, update.weight);
  const scale = valueScale(e);
  let clipped = 0;
  const put = (at: number, v: number): void => {
    let x = w * v;
    if (x > e.clip) (x = e.clip), clipped++;
    else if (x < -e.clip) (x = -e.clip), clipped++;
    setInt(out, at, Math.round(x * scale));
  };
  let base = 0;
  for (const t of e.tables) {
    if (t.item) {
      const delta = update.itemTables[t.name];
      if (delta) {
        if (delta.length !== update.rows.length * t.cols) throw new Error(`update table '${t.name}' has ${delta.length} values for ${update.rows.length} rows of ${t.cols}`);
        for (let k = 0; k < update.rows.length; k++) {
          const row = update.rows[k];
          for (let f = 0; f < t.cols; f++) put(base + row * t.cols + f, delta[k * t.cols + f]);
        }
      }
    } else {
      const delta = update.denseTables[t.name];
      if (delta) {
        if (delta.length !== t.rows * t.cols) throw new Error(`update table '${t.name}' has ${delta.length} values, expected ${t.rows * t.cols}`);
        for (let k = 0; k < delta.length; k++) put(base + k, delta[k]);
      }
    }
    base += t.rows * t.cols;
  }
  for (const row of update.rows) setInt(out, base + row, w);
  base += e.nItems;
  setInt(out, base, w);
  put(base + 1, Number.isFinite(update.loss) ? update.loss : 0);
  setInt(out, base + 2, 1);
  return { vector: out, clipped };
}

/** Slot `at` := the integer v (|v| ≤ 2^53) in two's complement over two words. */
function setInt(out: Uint32Array, at: number, v: number): void {
  out[2 * at] = v >>> 0;
  out[2 * at + 1] = Math.floor(v / TWO32) >>> 0;
}

/** The signed value of slot `at` (exact below 2^53). */
export function slotValue(v: Uint32Array, at: number): number {
  const hi = v[2 * at + 1];
  return (hi >= 2 ** 31 ? hi - TWO32 : hi) * TWO32 + v[2 * at];
}

/** acc += v (mod 2^64 per (low, high) word pair), in place. */
export function addInto(acc: Uint32Array, v: Uint32Array): void {
  if (acc.length !== v.length || acc.length % 2 !== 0) throw new Error(`vectors of ${acc.length} and ${v.length} words`);
  for (let k = 0; k < acc.length; k += 2) {
    const lo = acc[k] + v[k];
    acc[k] = lo; // stored mod 2^32
    acc[k + 1] = acc[k + 1] + v[k + 1] + (lo >= TWO32 ? 1 : 0);
  }
}

/** acc −= v (mod 2^64 per word pair), in place. */
export function subtractInto(acc: Uint32Array, v: Uint32Array): void {
  if (acc.length !== v.length || acc.length % 2 !== 0) throw new Error(`vectors of ${acc.length} and ${v.length} words`);
  for (let k = 0; k < acc.length; k += 2) {
    const lo = acc[k] - v[k];
    acc[k] = lo;
    acc[k + 1] = acc[k + 1] - v[k + 1] - (lo < 0 ? 1 : 0);
  }
}

/** The sums a FedAvg-style strategy folds (`FedAvg.acceptPartial`), from the decoded ring sum. */
export function decodeSum(e: Encoding, sum: Uint32Array): PartialAggregate {
  if (sum.length !== vectorLength(e)) throw new Error(`secure sum has ${sum.length} words, the encoding ${vectorLength(e)}`);
  const scale = valueScale(e);
  const sums: Record<string, Float64Array> = {};
  let base = 0;
  for (const t of e.tables) {
    const s = new Float64Array(t.rows * t.cols);
    for (let k = 0; k < s.length; k++) s[k] = slotValue(sum, base + k) / scale;
    sums[t.name] = s;
    base += s.length;
  }
  const rowWeight = new Float64Array(e.nItems);
  for (let r = 0; r < e.nItems; r++) rowWeight[r] = slotValue(sum, base + r);
  base += e.nItems;
  return { sums, rowWeight, totalWeight: slotValue(sum, base), lossSum: slotValue(sum, base + 1) / scale, clients: slotValue(sum, base + 2) };
}
