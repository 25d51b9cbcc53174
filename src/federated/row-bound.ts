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

/** The L2 norm of each item row of an update, over all its item tables. */
export function rowNorms(update: GlobalUpdate): Float64Array {
  const n = update.rows.length;
  const sq = new Float64Array(n);
  if (n === 0) return sq;
  for (const t of Object.values(update.itemTables)) {
    const cols = t.length / n;
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let f = k * cols, end = f + cols; f < end; f++) s += t[f] * t[f];
      sq[k] += s;
    }
  }
  for (let k = 0; k < n; k++) sq[k] = Math.sqrt(sq[k]);
  return sq;
}

/**
 * The update with every item row clipped to `rowShare × l2Bound`, then scaled so that its L2,1
 * norm is at most `spread × l2Bound` (dense tables scaled alike); unchanged (the same object) when
 * within both or when no bound applies.
 */
export function boundRows(update: GlobalUpdate, l2Bound: number, bounds: RowBounds): GlobalUpdate {
  const rowMax = (bounds.rowShare ?? 0) * l2Bound;
  const spreadMax = (bounds.spread ?? 0) * l2Bound;
  if (!(l2Bound > 0) || (!(rowMax > 0) && !(spreadMax > 0)) || update.rows.length === 0) return update;
  const norms = rowNorms(update);
  const rowScale = new Float64Array(norms.length).fill(1);
  let l21 = 0;
  let clippedRows = false;
  for (let k = 0; k < norms.length; k++) {
    if (rowMax > 0 && norms[k] > rowMax) {
      rowScale[k] = rowMax / norms[k];
      clippedRows = true;
      l21 += rowMax;
    } else l21 += norms[k];
  }
  const scale = spreadMax > 0 && l21 > spreadMax ? spreadMax / l21 : 1;
  if (!clippedRows && scale === 1) return update;
  const n = update.rows.length;
  const itemTables = Object.fromEntries(
    Object.entries(update.itemTables).map(([name, t]) => {
      const cols = t.length / n;
      const out = new Float32Array(t.length);
      for (let k = 0; k < n; k++) {
        const s = rowScale[k] * scale;
        for (let f = k * cols, end = f + cols; f < end; f++) out[f] = t[f] * s;
      }
      return [name, out];
    }),
  );
  const denseTables = scale === 1 ? update.denseTables : Object.fromEntries(Object.entries(update.denseTables).map(([name, t]) => [name, t.map((v) => v * scale)]));
  return { ...update, itemTables, denseTables };
}
