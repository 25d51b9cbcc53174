/**
 * A user's personalised item table in graph aggregation (UFGraphFR, arXiv 2501.08044; GPFedRec,
 * KDD 2024), as sparse rows over the global table: R_u[rows[k]] = θ[rows[k]] + delta[k·d .. (k+1)·d).
 * The scorer reads it; federated/personal-types.ts carries it on the wire.
 */
export interface PersonalRows {
  readonly rows: Int32Array; // sorted item ids
  readonly delta: Float32Array; // [rows.length, d]
}
