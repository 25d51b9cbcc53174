/**
 * Row-structured bounds on one client update (issue 19), on top of the L2 clip (federated/bounds.ts):
 *  - a per-row bound: no item row of an update may move by more than `rowShare` × the update's L2
 *    bound (a targeted push puts its whole L2 budget into one item's row);
 *  - a spread bound: the sum of an update's row norms (its L2,1 norm, the group-lasso norm over
 *    item rows) may be at most `spread` × the L2 bound; the update is scaled down otherwise.
 * Why: an honest FedAvg-MF update is row-sparse in effect — most of its norm sits on the user's
 * positives, its sampled negatives move little — whereas an attacker that spreads its L2 budget
 * evenly over every row ("+1 everywhere") gets a small but consistent push on every coordinate,
 * which the server's Adam turns into lr-sized steps (it normalises each coordinate by its own
 * history). (L2,1 / L2)² is the update's effective number of rows; bounding it bounds how much of
 * the model one update can push consistently. Norm bounding as in Sun et al. 2019 ("Can you really
 * backdoor federated learning?"), in the row-group norms of Yuan & Lin 2006 (group lasso).
 * Both bounds scale with the L2 bound (the adaptive clip: the previous round's median update norm),
 * so they need no statistics of their own and fold in worker threads unchanged. Server-side: under
 * secure aggregation the server sees only the sum and cannot apply them (docs/robustness.md).
 */
import type { GlobalUpdate } from './types.js';

export interface RowBounds {
  /** Largest L2 norm of one item row (all item tables together) as a multiple of the L2 bound; 0: none. */
  readonly rowShare?: number;
  /** Largest L2,1 norm (sum of the item rows' norms) as a multiple of the L2 bound; 0: none. */
  readonly spread?: number;
}

/**
 * Adds Σ_f t[k·cols + f]² of one item table (n rows) to out[k], in `rowSquares`' order; false when
 * it cannot (the caller's JavaScript loop then runs). The server's SIMD sums provide one.
 */
export type RowSquaresKernel = (name: string, t: Float32Array, n: number, out: Float64Array) => boolean;

/**
 * Σ of the squared values of each item row of an update, over all its item tables (float64; a
 * table of even width in two running sums, even and odd columns, as the SIMD kernel adds them).
 */
export function rowSquares(update: GlobalUpdate, kernel?: RowSquaresKernel): Float64Array {
  const n = update.rows.length;
  const sq = new Float64Array(n);
  if (n === 0) return sq;
  for (const [name, t] of Object.entries(update.itemTables)) if (!kernel?.(name, t, n, sq)) addRowSquares(t, n, sq);
  return sq;
}

function addRowSquares(t: Float32Array, n: number, sq: Float64Array): void {
  const cols = t.length / n;
  for (let k = 0; k < n; k++) {
    let a = 0;
    let b = 0;
    const end = (k + 1) * cols;
    if (cols % 2 === 0) {
      for (let f = k * cols; f < end; f += 2) {
        a += t[f] * t[f];
        b += t[f + 1] * t[f + 1];
      }
    } else for (let f = k * cols; f < end; f++) a += t[f] * t[f];
    sq[k] += a + b;
  }
}

/** The L2 norm of each item row of an update, over all its item tables. */
export function rowNorms(update: GlobalUpdate): Float64Array {
  const sq = rowSquares(update);
  for (let k = 0; k < sq.length; k++) sq[k] = Math.sqrt(sq[k]);
  return sq;
}

/** Whether `bounds` holds a row bound at all. */
export function hasRowBounds(bounds: RowBounds): boolean {
  return (bounds.rowShare ?? 0) > 0 || (bounds.spread ?? 0) > 0;
}

/** Per-row scales of an update's item rows, and the scale of its dense tables. */
export interface RowScales {
  readonly rows: Float64Array;
  readonly dense: number;
}

/**
 * The scales that bound the rows of an update already scaled by `preScale` (the L2 clip), from its
 * unscaled row squares `sq`: every item row to `rowShare × l2Bound`, then the whole update so that
 * its L2,1 norm is at most `spread × l2Bound`. Each scale includes `preScale`; null when no row
 * bound binds (the update is then `preScale` × itself).
 */
export function rowBoundScales(sq: Float64Array, preScale: number, l2Bound: number, bounds: RowBounds): RowScales | null {
  const rowMax = (bounds.rowShare ?? 0) * l2Bound;
  const spreadMax = (bounds.spread ?? 0) * l2Bound;
  if (!(l2Bound > 0) || (!(rowMax > 0) && !(spreadMax > 0)) || sq.length === 0) return null;
  const rows = new Float64Array(sq.length).fill(1);
  let l21 = 0;
  let clippedRows = false;
  for (let k = 0; k < sq.length; k++) {
    const norm = Math.sqrt(sq[k]) * preScale;
    if (rowMax > 0 && norm > rowMax) {
      rows[k] = rowMax / norm;
      clippedRows = true;
      l21 += rowMax;
    } else l21 += norm;
  }
  const spread = spreadMax > 0 && l21 > spreadMax ? spreadMax / l21 : 1;
  if (!clippedRows && spread === 1) return null;
  for (let k = 0; k < rows.length; k++) rows[k] = preScale * (rows[k] * spread);
  return { rows, dense: preScale * spread };
}

/** One item table (row k = its k-th slice) with row k's values scaled by scales[k], rounded to float32. */
export function rowScaledCopy(t: Float32Array, scales: Float64Array): Float32Array {
  const out = new Float32Array(t.length);
  const cols = t.length / scales.length;
  for (let k = 0; k < scales.length; k++) {
    const s = scales[k];
    for (let f = k * cols, end = f + cols; f < end; f++) out[f] = t[f] * s;
  }
  return out;
}

/** The update with item row k scaled by `scales.rows[k]` and dense tables by `scales.dense` (float32 copies). */
export function scaleRows(update: GlobalUpdate, scales: RowScales): GlobalUpdate {
  const itemTables = Object.fromEntries(Object.entries(update.itemTables).map(([name, t]) => [name, rowScaledCopy(t, scales.rows)]));
  const denseTables = scales.dense === 1 ? update.denseTables : Object.fromEntries(Object.entries(update.denseTables).map(([name, t]) => [name, t.map((v) => v * scales.dense)]));
  return { ...update, itemTables, denseTables };
}

/**
 * The update with every item row clipped to `rowShare × l2Bound`, then scaled so that its L2,1
 * norm is at most `spread × l2Bound` (dense tables scaled alike); unchanged (the same object) when
 * within both or when no bound applies.
 */
export function boundRows(update: GlobalUpdate, l2Bound: number, bounds: RowBounds): GlobalUpdate {
  if (!(l2Bound > 0) || !hasRowBounds(bounds) || update.rows.length === 0) return update;
  const scales = rowBoundScales(rowSquares(update), 1, l2Bound, bounds);
  return scales ? scaleRows(update, scales) : update;
}
