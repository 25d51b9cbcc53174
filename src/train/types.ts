/**
 * Shapes for local training: a pointwise example set (user, item, label) and the knobs of one
 * training pass. Shared by the centralised trainer and by every federated client.
 */
export type LossKind = 'bce' | 'bpr' | 'mse' | 'softmax';

/** Training examples; for 'bpr', `items` are positives and `negatives` their paired negatives. */
export interface ExampleSet {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** Label per example: 1/0 for BCE, the rating for MSE; unused for BPR. */
  readonly labels: Float32Array;
  /** BPR only: the negative item paired with each positive. */
  readonly negatives: Int32Array | null;
  readonly length: number;
  /** Sampled softmax only (train/softmax.ts): examples per group, the positive then its negatives. */
  readonly group?: number;
}

export interface FitOptions {
  readonly loss: LossKind;
  readonly batch: number;
  readonly epochs: number;
}

export interface FitResult {
  /** Mean loss per example over the last epoch. */
  readonly loss: number;
  /** Examples processed over all epochs. */
  readonly examples: number;
}
