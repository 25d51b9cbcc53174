/**
 * Optimiser contract: apply one step to the touched rows of named tables, given accumulated
 * gradients. State (Adam moments) lives in the optimiser instance and is created on first use.
 */
import type { Grads } from '../models/types.js';

export interface Optimizer {
  /** Update `tables[name]` for every name in `names` from `grads`, touched rows only. */
  step(tables: { readonly [name: string]: Float32Array }, grads: Grads, names: readonly string[]): void;
  /** A copy of the optimiser's state (steps taken, per-table slots), e.g. to checkpoint it. */
  exportState(): OptimizerState;
  /**
   * Replace the state with a copy of `state` (from `exportState` of an optimiser of the same kind
   * and config): the next steps are then those the exporting optimiser would have taken. Throws,
   * changing nothing, on a slot this optimiser does not keep.
   */
  importState(state: OptimizerState): void;
}

/**
 * An optimiser's state. `tables` holds one slot per table it has stepped, keyed 'slot/table'
 * (LazyAdam: 'm/itemEmb', 'v/itemEmb'; SGD with momentum: 'velocity/itemEmb'; plain SGD: none),
 * each as long as the table. Slots of tables never stepped are absent (they start at zero).
 */
export interface OptimizerState {
  /** Steps taken (LazyAdam's bias correction uses it). */
  readonly step: number;
  readonly tables: { readonly [slotAndTable: string]: Float32Array };
}

/** Splits a state key 'slot/table' and checks the slot is one of `slots`. */
export function parseSlotKey(key: string, slots: readonly string[], owner: string): { slot: string; table: string } {
  const at = key.indexOf('/');
  const slot = at > 0 ? key.slice(0, at) : '';
  const table = at > 0 ? key.slice(at + 1) : '';
  if (!slots.includes(slot) || table.length === 0) {
    const expected = slots.length > 0 ? `'${slots.join("/<table>' or '")}/<table>'` : 'no slots';
    throw new Error(`${owner} state: unexpected slot '${key}' (expected ${expected})`);
  }
  return { slot, table };
}

/** Checks a state's step count. */
export function checkStep(step: number, owner: string): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`${owner} state: step must be a non-negative integer, got ${step}`);
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
