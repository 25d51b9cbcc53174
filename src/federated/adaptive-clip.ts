/**
 * Adaptive norm bound: each round's clip is a multiple of the previous round's median update norm,
 * capped by the fixed clip (norm bounding, Sun et al. 2019 "Can you really backdoor federated
 * learning?", with the bound set from the clients as adaptive clipping does, Andrew et al. 2021).
 * A fixed bound far above honest norms (10 against a median of ≈ 2 on ML-100K) lets each attacker
 * push five honest clients' worth; the median bound gives it one client's worth, whatever fraction
 * under half attacks. The previous round's median (not the current one) keeps the fold streaming:
 * the bound is known when the round opens, so updates are folded as they arrive (worker threads
 * included) and nothing is kept per client. The bound is server state: it is checkpointed with the
 * server optimiser's (`CLIP_SLOT`) so a restarted coordinator continues exactly.
 */
import type { OptimizerState } from '../optim/types.js';

/** The server-state slot holding the current bound (one float32). */
export const CLIP_SLOT = 'clip/bound';

export class AdaptiveNormBound {
  private norms: number[] = [];
  private current: number;

  /**
   * @param ceiling the fixed clip (0: none) — the bound of the first round and the largest ever;
   * @param multiple κ: the bound is κ × the previous round's median norm (0: the fixed clip only).
   */
  constructor(private readonly ceiling: number, private readonly multiple: number) {
    this.current = ceiling;
  }

  /** The bound this round's updates are clipped to (0: none). */
  get bound(): number {
    return this.current;
  }

  get adaptive(): boolean {
    return this.multiple > 0;
  }

  /** Record the (unclipped) norm of an update the server folds. */
  observe(norm: number): void {
    if (this.multiple > 0 && Number.isFinite(norm)) this.norms.push(norm);
  }

  observeAll(norms: readonly number[]): void {
    for (const n of norms) this.observe(n);
  }

  /** Close the round: the next bound from this round's norms (unchanged when none were seen). */
  endRound(): void {
    if (this.multiple > 0 && this.norms.length > 0) {
      const sorted = Float64Array.from(this.norms).sort();
      const median = sorted.length % 2 === 1 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      const next = this.multiple * median;
      // float32, so that the checkpointed bound is the one in use
      this.current = Math.fround(this.ceiling > 0 ? Math.min(this.ceiling, next) : next);
    }
    this.norms = [];
  }

  /** Drop the norms of a round that is being folded again (a coordinator re-folds after a failed checkpoint). */
  beginRound(): void {
    this.norms = [];
  }

  /** The bound as a server-state slot (absent when the bound is fixed). */
  state(): Record<string, Float32Array> {
    return this.multiple > 0 ? { [CLIP_SLOT]: Float32Array.of(this.current) } : {};
  }

  /** Continue from `state()` (a checkpoint without the slot: the fixed clip); throws on a malformed slot. */
  restore(tables: { readonly [key: string]: Float32Array }): void {
    const slot = tables[CLIP_SLOT];
    if (slot === undefined || !(this.multiple > 0)) {
      this.current = this.ceiling;
      return;
    }
    if (slot.length !== 1 || !(slot[0] > 0) || !Number.isFinite(slot[0])) throw new Error(`server state: slot '${CLIP_SLOT}' must hold one positive finite bound`);
    this.current = slot[0];
  }
}

/** What keeps the server optimiser's state (federated/aggregate.ts `ServerUpdater`). */
interface OptimizerStateHolder {
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

/** A clipping strategy's server state: the optimiser's, plus the bound's slot when the bound adapts. */
export function serverStateWithBound(updater: OptimizerStateHolder, bound: AdaptiveNormBound): OptimizerState {
  const s = updater.state();
  return bound.adaptive ? { step: s.step, tables: { ...s.tables, ...bound.state() } } : s;
}

/** Continue both from `serverStateWithBound`'s state; when the optimiser refuses it, the bound is left as it was. */
export function restoreServerStateWithBound(updater: OptimizerStateHolder, bound: AdaptiveNormBound, state: OptimizerState): void {
  const before = bound.state();
  bound.restore(state.tables);
  const { [CLIP_SLOT]: _, ...tables } = state.tables;
  try {
    updater.restore({ step: state.step, tables });
  } catch (err) {
    bound.restore(before);
    throw err;
  }
}
