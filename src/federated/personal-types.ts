/**
 * Wire shapes of graph-aggregated personalised federated recommendation (UFGraphFR, arXiv
 * 2501.08044; GPFedRec, KDD 2024). Beyond FedAvg's `GlobalUpdate`, each user of a client uploads its
 * joint-embedding weights vec(W_u) (optionally Laplace-noised) and its trained item rows; the server
 * answers with a personalised table R_u = θ_global + Δ_u, Δ_u sparse on the rows the user touched.
 */
import type { GlobalUpdate } from './types.js';

/** A user's sparse personal rows (the scorer's input, so defined beside it in models/). */
export type { PersonalRows } from '../models/text-graph/personal-rows.js';

/** One user's contribution to graph aggregation. */
export interface UserUpload {
  /** Dense user id. */
  readonly user: number;
  /** vec(W_u), [textDim·d] (with Laplace noise when the client applies local DP). */
  readonly weightVector: Float32Array;
  /** Sorted item ids the user trained this round (positives and sampled negatives). */
  readonly rows: Int32Array;
  /** The user's item rows after training: [rows.length, d]. */
  readonly itemRows: Float32Array;
  /** Examples the user trained on. */
  readonly weight: number;
}

/** A client's update: FedAvg's deltas (item rows, head) plus per-user uploads for graph aggregation. */
export interface GraphUpdate extends GlobalUpdate {
  readonly users: readonly UserUpload[];
}

export function isGraphUpdate(update: GlobalUpdate): update is GraphUpdate {
  return Array.isArray((update as Partial<GraphUpdate>).users);
}
