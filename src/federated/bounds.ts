/**
 * Bounded influence of one client update on the server's aggregate, applied by the server (the
 * simulation's strategies and the coordinator alike), whatever the client claims:
 *  - weight: the server decides it — 'uniform' (every update with something to train counts 1)
 *    or 'examples' (the self-reported example count, capped at `weightCap`);
 *  - norm: the L2 norm of all deltas is clipped to `clipNorm` (the DP-FedAvg / norm-bounding
 *    convention, Sun et al. 2019 "Can you really backdoor federated learning?");
 *  - loss: a reported scalar, kept only when finite and within `LOSS_BOUND`.
 * With both, one client moves a row's mean by at most clipNorm × (its weight / the row's total).
 */
import { hasRowBounds, rowBoundScales, rowSquares, scaleRows, type RowBounds } from './row-bound.js';
import type { GlobalUpdate } from './types.js';

/** How the server weights each client's update: equally, or by its (capped) example count. */
export type ClientWeighting = 'examples' | 'uniform';

export interface InfluenceBounds extends RowBounds {
  readonly weighting: ClientWeighting;
  /** L2 bound on a whole update; 0 or absent: none. */
  readonly clipNorm?: number;
  /** Largest weight an update may carry under 'examples'; absent: no cap. */
  readonly weightCap?: number;
}

/** Largest |loss| a client may report (losses of every model here are far below it). */
export const LOSS_BOUND = 1e6;

/** L2 norm of all deltas of an update (float64 sum of squares: finite for any finite float32). */
export function updateNorm(update: GlobalUpdate): number {
  let sq = 0;
  for (const tables of [update.itemTables, update.denseTables]) {
    for (const t of Object.values(tables)) sq += sumOfSquares(t);
  }
  return Math.sqrt(sq);
}

/** Σ t[k]² in float64, four running sums (independent chains run in parallel on the CPU). */
export function sumOfSquares(t: Float32Array): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = t.length - (t.length % 4);
  let k = 0;
  for (; k < n; k += 4) {
    const x = t[k];
    const y = t[k + 1];
    const z = t[k + 2];
    const w = t[k + 3];
    a += x * x;
    b += y * y;
    c += z * z;
    d += w * w;
  }
  for (; k < t.length; k++) a += t[k] * t[k];
  return a + b + (c + d);
}

/** The factor that clips an update of L2 norm `norm` to `bound` (1 when within it or without a bound). */
export function clipScale(norm: number, bound: number): number {
  return !(bound > 0) || norm <= bound ? 1 : bound / norm;
}

/** The update scaled down to L2 norm `bound` (unchanged when within it). */
export function clipUpdate(update: GlobalUpdate, bound: number, norm = updateNorm(update)): { update: GlobalUpdate; clipped: boolean; norm: number } {
  if (!(bound > 0) || norm <= bound) return { update, clipped: false, norm };
  const scale = clipScale(norm, bound);
  const scaled = (tables: { readonly [n: string]: Float32Array }) =>
    Object.fromEntries(Object.entries(tables).map(([n, t]) => [n, scaledCopy(t, scale)]));
  return { update: { ...update, itemTables: scaled(update.itemTables), denseTables: scaled(update.denseTables) }, clipped: true, norm };
}

/** t · scale rounded to float32 (what `t.map((v) => v * scale)` gives, without a call per value). */
export function scaledCopy(t: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(t.length);
  for (let k = 0; k < t.length; k++) out[k] = t[k] * scale;
  return out;
}

/** The weight the server gives an update (0 stays 0: a client with nothing to train changes nothing). */
export function serverWeight(reported: number, bounds: InfluenceBounds): number {
  if (!Number.isFinite(reported) || reported <= 0) return 0;
  if (bounds.weighting === 'uniform') return 1;
  return bounds.weightCap !== undefined ? Math.min(reported, bounds.weightCap) : reported;
}

/**
 * The update as the server folds it: weight decided by the server, norm clipped, loss bounded;
 * null for an update holding a non-finite value (the coordinator refuses those at the door; a
 * strategy drops them, so one cannot void a whole round's aggregate).
 */
export function boundUpdate(update: GlobalUpdate, bounds: InfluenceBounds): GlobalUpdate | null {
  const norm = updateNorm(update);
  if (!Number.isFinite(norm)) return null;
  const clipNorm = bounds.clipNorm ?? 0;
  // row bounds (federated/row-bound.ts) are multiples of the L2 bound: none without one; applied
  // after the clip, in one rounding per value (what the server's fold computes)
  const scales = clipNorm > 0 && hasRowBounds(bounds) ? rowBoundScales(rowSquares(update), clipScale(norm, clipNorm), clipNorm, bounds) : null;
  const clipped = scales ? scaleRows(update, scales) : clipNorm > 0 ? clipUpdate(update, clipNorm, norm).update : update;
  const loss = Number.isFinite(update.loss) && Math.abs(update.loss) <= LOSS_BOUND ? update.loss : 0;
  return { ...clipped, weight: serverWeight(update.weight, bounds), loss };
}

/** True when every value of every table is finite. */
export function allFinite(tables: { readonly [name: string]: Float32Array }): boolean {
  for (const t of Object.values(tables)) for (let k = 0; k < t.length; k++) if (!Number.isFinite(t[k])) return false;
  return true;
}
