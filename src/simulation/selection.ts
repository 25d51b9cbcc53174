/**
 * Model selection on validation only (EVALUATION.md): remembers the parameters of the round or
 * epoch whose validation score was best, so test metrics are reported for the model a
 * practitioner would have picked without ever looking at the test split.
 */
import type { RankingResult, Scorer } from '../eval/types.js';
import { cloneParams } from '../models/params.js';
import type { Params, RecModel } from '../models/types.js';

export type SelectionMode = 'best' | 'last';

/** Whether round (or epoch) `round` of `last` is validated: every `every`-th and the last. */
export function evaluatesAt(round: number, every: number, last: number): boolean {
  return round % every === 0 || round === last;
}

/** The validation score used for selection: NDCG at the first K, sampled protocol if present. */
export function selectionScore(validation: RankingResult, k: number): number | undefined {
  return (validation.sampled ?? validation.full)?.[`NDCG@${k}`];
}

export class BestCheckpoint {
  private bestScore = -Infinity;
  private params: Params | null = null;
  private bestRound = 0;

  constructor(private readonly k: number) {}

  /** Offer a probe result; `snapshot` is called (and its copy kept) only when it is the best so far. */
  consider(round: number, validation: RankingResult, snapshot: () => Params): void {
    const score = selectionScore(validation, this.k);
    if (score === undefined || score <= this.bestScore) return;
    this.bestScore = score;
    this.bestRound = round;
    this.params = snapshot();
  }

  get round(): number {
    return this.bestRound;
  }

  /** The best parameters seen, or null when no probe produced a score. */
  get best(): Params | null {
    return this.params;
  }
}

/**
 * The probe every recipe's engine calls at `evaluatesAt` rounds/epochs: validates `model` and lets
 * `selection` keep a copy of its parameters when it is the best so far.
 */
export function selectingProbe(selection: BestCheckpoint, validate: (model: Scorer) => RankingResult): (model: RecModel, round: number) => RankingResult {
  return (model, round) => {
    const validation = validate(model);
    selection.consider(round, validation, () => cloneParams(model.params));
    return validation;
  };
}
