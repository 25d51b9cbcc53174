/**
 * What a training run reports as it goes: one history entry per evaluated round or epoch, matching
 * the `history` array of the EVALUATION.md result document.
 */
import type { ExplicitMetrics, RankingResult } from '../eval/types.js';

export interface HistoryEntry {
  readonly round: number;
  readonly loss: number;
  readonly seconds: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly clients?: number;
  /** Validation metrics: ranking protocols, and `explicit` for rating runs. */
  readonly validation: ValidationMetrics;
}

export type ValidationMetrics = RankingResult & { explicit?: ExplicitMetrics };

/** Called after each round / epoch (for progress bars and logs). */
export type ProgressListener = (entry: HistoryEntry, total: number) => void;

/** Evaluates the current model on validation for the history (or returns {} when skipped). */
export type ValidationProbe = (round: number) => ValidationMetrics;
