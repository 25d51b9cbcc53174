/**
 * Recency weighting of training positives: a user's `window` most recent train interactions count
 * `weight` times (each copy with its own fresh negatives), the older ones once. The simplest form of
 * time-weighted collaborative filtering (Ding & Li, "Time weight collaborative filtering", CIKM 2005):
 * tastes drift, so the latest interactions say most about the next one. It reads only the user's own
 * train timestamps, so it runs on a device as well as centrally, and it cannot leak held-out data.
 */
import { latestEntries } from '../data/recency.js';

export interface RecencyWeighting {
  /** How many of a user's latest train interactions are weighted up (0: none). */
  readonly window: number;
  /** How many times each of them counts (1: no weighting). */
  readonly weight: number;
}

/**
 * One user's training values (items, or ratings aligned with them) under `weighting`: `values`
 * followed by `weight − 1` more copies of the entries whose recency rank (data/recency.ts) is below
 * `window`. Unchanged when the weighting is off or the user has no timestamps.
 */
export function repeatRecent<T extends Int32Array | Float32Array>(values: T, ranks: Int32Array | null | undefined, weighting: RecencyWeighting | undefined): T {
  if (!weighting || weighting.weight <= 1 || weighting.window <= 0 || !ranks) return values;
  if (ranks.length !== values.length) throw new RangeError(`repeatRecent: ${values.length} values but ${ranks.length} ranks`);
  const recent = latestEntries(values, ranks, weighting.window);
  const out = new (values.constructor as new (n: number) => T)(values.length + recent.length * (weighting.weight - 1));
  out.set(values);
  for (let copy = 1; copy < weighting.weight; copy++) out.set(recent, values.length + (copy - 1) * recent.length);
  return out;
}
