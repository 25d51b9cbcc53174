/**
 * The centralised epoch loop, written once for every centralised recipe (MF/NeuMF, iALS,
 * LightGCN/NCL, text-graph): train one epoch, time it, probe validation at `evaluatesAt` epochs
 * (the recipe's probe keeps the best-validation model, simulation/selection.ts), record the history
 * entry (no bytes move in a centralised run).
 */
import { evaluatesAt } from './selection.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from '../report/history.js';

export interface EpochSchedule {
  readonly epochs: number;
  readonly evalEvery: number;
}

/** Runs `trainEpoch(epoch)` (returning the epoch's training loss) for every epoch: the history. */
export function runEpochs(
  schedule: EpochSchedule,
  trainEpoch: (epoch: number) => number,
  probe: ValidationProbe,
  onProgress?: ProgressListener,
): HistoryEntry[] {
  const history: HistoryEntry[] = [];
  for (let epoch = 1; epoch <= schedule.epochs; epoch++) {
    const started = performance.now();
    const loss = trainEpoch(epoch);
    const seconds = (performance.now() - started) / 1000;
    const evaluate = evaluatesAt(epoch, schedule.evalEvery, schedule.epochs);
    const entry: HistoryEntry = { round: epoch, loss, seconds, bytesUp: 0, bytesDown: 0, validation: evaluate ? probe(epoch) : {} };
    history.push(entry);
    onProgress?.(entry, schedule.epochs);
  }
  return history;
}
