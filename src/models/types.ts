/**
 * The model contract. A model is a set of named parameter tables plus a differentiable score
 * s(u, i). Every table is [rows, cols] row-major; its rows are indexed by user, by item, or are
 * plain dense weights. Tables indexed by user are LOCAL (they never leave a client); everything
 * else is GLOBAL (shared through the server). Losses live outside the model: the trainer asks for
 * a score, turns it into dLoss/dScore, and hands that back to `backward`.
 */
import type { Scorer } from '../eval/types.js';

export type RowIndex = 'user' | 'item' | 'dense';
export type Scope = 'global' | 'local';

export interface ParamInfo {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly index: RowIndex;
  /** 'local' exactly when index === 'user'. */
  readonly scope: Scope;
}

declare const scope: unique symbol;
/** Named parameter arrays. Branded so local values cannot be passed where global ones go. */
export type GlobalParams = { readonly [name: string]: Float32Array } & { readonly [scope]?: 'global' };
export type LocalParams = { readonly [name: string]: Float32Array } & { readonly [scope]?: 'local' };

export interface Params {
  readonly global: GlobalParams;
  readonly local: LocalParams;
}

export type ModelKind = 'mf' | 'neumf' | 'ials';

/** Losses on a single score: BCE-with-logits (label 0/1) and squared error (label = rating). */
export type PointwiseLoss = 'bce' | 'mse';

/** Serializable description of a model; with `nUsers`/`nItems` it fixes every table's shape. */
export interface ModelConfig {
  readonly kind: ModelKind;
  /** Embedding width (MF factors; NeuMF GMF width). */
  readonly dim: number;
  /** NeuMF only: MLP-branch embedding width and hidden layer widths of the tower. */
  readonly mlpDim?: number;
  readonly layers?: readonly number[];
  /** Standard deviation of the N(0, σ²) embedding initialisation. */
  readonly initStd?: number;
}

/**
 * Gradient accumulator mirroring a model's tables. Embedding tables record which rows were
 * touched so optimisers can update (and zero) only those rows. Tables indexed alike (all user
 * tables, all item tables) share one touched-row list.
 */
export interface Grads {
  readonly values: { readonly [name: string]: Float32Array };
  /** Mark row r of table `name` (and so of every table indexed like it) as touched. */
  touch(name: string, row: number): void;
  /** Mark user row u of every user-indexed table as touched. */
  touchUser(u: number): void;
  /** Mark item row i of every item-indexed table as touched. */
  touchItem(i: number): void;
  /** Rows of `name` touched since the last reset (all rows for dense tables). */
  touchedRows(name: string): Int32Array;
  /** Number of values per row of table `name`. */
  width(name: string): number;
  /** Zero the touched rows and forget them. */
  reset(): void;
}

export interface RecModel extends Scorer {
  readonly config: ModelConfig;
  readonly nUsers: number;
  readonly nItems: number;
  readonly info: readonly ParamInfo[];
  readonly params: Params;
  /** Score (logit) of item i for user u. */
  score(u: number, i: number): number;
  /** Accumulate dScore · ∂s(u,i)/∂θ into grads (and mark touched rows). */
  backward(u: number, i: number, dScore: number, grads: Grads): void;
  /**
   * Fused forward + backward of a pointwise loss: scores (u, i), accumulates
   * scale · dLoss/dScore · ∂s/∂θ into grads, and returns the example's loss. One forward pass.
   */
  pointwise(u: number, i: number, label: number, loss: PointwiseLoss, scale: number, grads: Grads): number;
  /**
   * Optional: `pointwise` over examples [start, end) of (users, items, labels) at once (a model's
   * batched path, e.g. dense layers as matrix products); returns the summed loss. Same gradients
   * as the per-example loop up to float32 summation order.
   */
  pointwiseBatch?(users: Int32Array, items: Int32Array, labels: Float32Array, start: number, end: number,
    loss: PointwiseLoss, scale: number, grads: Grads): number;
}
