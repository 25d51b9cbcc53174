/**
 * Optimiser contract: apply one step to the touched rows of named tables, given accumulated
 * gradients. State (Adam moments) lives in the optimiser instance and is created on first use.
 */
import type { Grads } from '../models/types.js';

export interface Optimizer {
  /** Update `tables[name]` for every name in `names` from `grads`, touched rows only. */
  step(tables: { readonly [name: string]: Float32Array }, grads: Grads, names: readonly string[]): void;
}

export type OptimizerKind = 'sgd' | 'adam';

export interface OptimizerConfig {
  readonly kind: OptimizerKind;
  readonly lr: number;
  /** L2 penalty coefficient applied to touched rows (adds wd·θ to the gradient). */
  readonly weightDecay?: number;
  /** SGD momentum (heavy ball); Adam β1/β2/ε. */
  readonly momentum?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}
