/**
 * What a training run reports as it goes: one history entry per evaluated round or epoch, matching
 * the `history` array of the EVALUATION.md result document.
 */
import type { RankingResult } from '../eval/types.js';

export interface HistoryEntry {
  readonly round: number;
  readonly loss: number;
  readonly seconds: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly clients?: number;
  readonly validation: RankingResult;
}

/** Called after each round / epoch (for progress bars and logs). */
export type ProgressListener = (entry: HistoryEntry, total: number) => void;

/** Evaluates the current model on validation for the history (or returns {} when skipped). */
export type ValidationProbe = (round: number) => RankingResult;
