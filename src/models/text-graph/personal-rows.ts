/**
 * A user's personalised item table in graph aggregation (UFGraphFR, arXiv 2501.08044; GPFedRec,
 * KDD 2024), as sparse rows over the global table: R_u[rows[k]] = θ[rows[k]] + delta[k·d .. (k+1)·d).
 * The scorer reads it; federated/personal-types.ts carries it on the wire.
 */
export interface PersonalRows {
  readonly rows: Int32Array; // sorted item ids
  readonly delta: Float32Array; // [rows.length, d]
}

/** The index of `item` among `p.rows` (binary search over the sorted ids), −1 when it has no personal row. */
export function personalRowOf(p: PersonalRows, item: number): number {
  const sorted = p.rows;
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < item) lo = mid + 1;
    else if (sorted[mid] > item) hi = mid - 1;
    else return mid;
  }
  return -1;
}
