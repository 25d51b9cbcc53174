/**
 * Fixed-point encoding of a client update into the ring Z_2^32, the space secure aggregation masks
 * and sums in (Bonawitz et al., CCS 2017, §3: inputs are vectors over Z_R). The vector is dense — every
 * row of every item table, so the masked vector cannot say which rows a client touched:
 *
 *   [ w·Δ of each global table in layout order, item tables over all nItems rows (untouched rows 0) ]
 *   [ per-item row weight: w where the client touched the row, else 0 ]   (for 'touched' averaging)
 *   [ w ] [ clipped loss ] [ 1 ]                                         (total weight, loss, clients)
 *
 * w is the client's aggregation weight (its examples, or 1 with uniform weighting), a whole number
 * at most `maxWeight` = ⌊(2^32 − 1) / n⌋. Each w·Δ value is clipped to [−clip, clip] and encoded
 * as round(v · scale) mod 2^32 with scale = 2^⌊log2((2^31 − 1) / (n · clip))⌋, so the sum of n
 * clients stays inside the signed 32-bit range and decodes exactly: the secure sum equals the sum
 * of the rounded values, and differs from the float sum by at most n / (2 · scale) per value.
 * The loss is clipped to [0, LOSS_CLIP] with its own scale; a secure round reports the clients'
 * unweighted mean loss.
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

export const LOSS_CLIP = 64;
const TWO32 = 4294967296;

export function tableSlots(info: readonly ParamInfo[]): TableSlot[] {
  return info.filter((p) => p.scope === 'global').map((p) => ({ name: p.name, rows: p.rows, cols: p.cols, item: p.index === 'item' }));
}

/** Length of the encoded vector in 32-bit words. */
export function vectorLength(e: Encoding): number {
  return e.tables.reduce((n, t) => n + t.rows * t.cols, 0) + e.nItems + 3;
}

export function valueScale(e: Encoding): number {
  return 2 ** Math.floor(Math.log2((2 ** 31 - 1) / (e.participants * e.clip)));
}

export function lossScale(e: Encoding): number {
  return 2 ** Math.floor(Math.log2((TWO32 - 1) / (e.participants * LOSS_CLIP)));
}

export function maxWeight(e: Encoding): number {
  return Math.floor((TWO32 - 1) / e.participants);
}

/** The weight a client's update carries in the sum (whole, bounded). */
export function encodedWeight(e: Encoding, weight: number): number {
  const w = e.weighting === 'uniform' ? (weight > 0 ? 1 : 0) : Math.round(weight);
  return Math.max(0, Math.min(maxWeight(e), w));
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
    out[at] = Math.round(x * scale) >>> 0;
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
  for (const row of update.rows) out[base + row] = w;
  base += e.nItems;
  out[base] = w;
  out[base + 1] = Math.round(Math.min(LOSS_CLIP, Math.max(0, Number.isFinite(update.loss) ? update.loss : LOSS_CLIP)) * lossScale(e)) >>> 0;
  out[base + 2] = 1;
  return { vector: out, clipped };
}

/** acc += v (mod 2^32), in place. */
export function addInto(acc: Uint32Array, v: Uint32Array): void {
  if (acc.length !== v.length) throw new Error(`vectors of ${acc.length} and ${v.length} words`);
  for (let k = 0; k < acc.length; k++) acc[k] = (acc[k] + v[k]) >>> 0;
}

/** acc −= v (mod 2^32), in place. */
export function subtractInto(acc: Uint32Array, v: Uint32Array): void {
  if (acc.length !== v.length) throw new Error(`vectors of ${acc.length} and ${v.length} words`);
  for (let k = 0; k < acc.length; k++) acc[k] = (acc[k] - v[k]) >>> 0;
}

const signed = (x: number): number => (x >= 2 ** 31 ? x - TWO32 : x);

/** The sums a FedAvg-style strategy folds (`FedAvg.acceptPartial`), from the decoded ring sum. */
export function decodeSum(e: Encoding, sum: Uint32Array): PartialAggregate {
  if (sum.length !== vectorLength(e)) throw new Error(`secure sum has ${sum.length} words, the encoding ${vectorLength(e)}`);
  const scale = valueScale(e);
  const sums: Record<string, Float64Array> = {};
  let base = 0;
  for (const t of e.tables) {
    const s = new Float64Array(t.rows * t.cols);
    for (let k = 0; k < s.length; k++) s[k] = signed(sum[base + k]) / scale;
    sums[t.name] = s;
    base += s.length;
  }
  const rowWeight = new Float64Array(e.nItems);
  for (let r = 0; r < e.nItems; r++) rowWeight[r] = sum[base + r];
  base += e.nItems;
  const totalWeight = sum[base];
  const clients = sum[base + 2];
  const meanLoss = clients > 0 ? sum[base + 1] / lossScale(e) / clients : 0;
  return { sums, rowWeight, totalWeight, lossSum: meanLoss * totalWeight, clients };
}
