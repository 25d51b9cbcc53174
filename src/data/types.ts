/**
 * Data shapes shared by readers, splits, samplers, models and evaluation.
 * Ids are dense integers: users 0..nUsers-1, items 0..nItems-1; `userIds` / `itemIds` map back to
 * the raw ids of the source file (and `userIndex` / `itemIndex` map raw → dense).
 */

/** Interactions in coordinate form, one entry per (user, item) pair after duplicate merging. */
export interface Interactions {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** Explicit rating per pair, or null for implicit data. */
  readonly ratings: Float32Array | null;
  /** Unix time (seconds) per pair, or null when the source has none. */
  readonly timestamps: Float64Array | null;
}

/** Side information kept for text features: raw id → attribute name → value. */
export interface SideInfo {
  readonly users?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly items?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export interface Dataset {
  readonly name: string;
  readonly nUsers: number;
  readonly nItems: number;
  readonly interactions: Interactions;
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly userIndex: ReadonlyMap<string, number>;
  readonly itemIndex: ReadonlyMap<string, number>;
  readonly side: SideInfo;
}

/** Compressed rows: the items of user u are indices[indptr[u] .. indptr[u+1]) (sorted ascending). */
export interface UserItems {
  readonly indptr: Int32Array; // [nUsers + 1]
  readonly indices: Int32Array; // [nnz]
  /** Optional value per entry (rating), aligned with indices. */
  readonly values: Float32Array | null;
}

export type SplitMethod = 'leave-one-out-time' | 'leave-one-out-random' | 'ratio';

/** Names of the evaluation parts of a split. */
export type EvalPart = 'validation' | 'test';

/**
 * A split for ranking evaluation. `train` holds each user's training positives; `validation` and
 * `test` hold the held-out positives; `negatives[part]` holds, per user, the fixed sampled
 * evaluation negatives (99 per user by default), drawn once from items the user never interacted
 * with in the whole data set. They are never used for training.
 */
export interface ImplicitSplit {
  readonly method: SplitMethod;
  readonly seed: number;
  readonly nUsers: number;
  readonly nItems: number;
  readonly train: UserItems;
  /**
   * Per train entry (aligned with `train.indices`), its rank among the user's train interactions
   * from the latest (0 = latest); null when the data set has no timestamps.
   */
  readonly trainRecency?: Int32Array | null;
  readonly validation: UserItems;
  readonly test: UserItems;
  readonly negatives: Readonly<Record<EvalPart, UserItems>>;
}
