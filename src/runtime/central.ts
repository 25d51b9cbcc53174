/**
 * Centralised training, the reference point for every federated result: one model over all users,
 * minibatch training with negatives renewed every epoch (NCF protocol), optional validation probes.
 */
import { Rng } from '../math/rng.js';
import { RowSparseGrads } from '../models/params.js';
import { evaluatesAt } from './selection.js';
import type { RecModel } from '../models/types.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import { buildEpochExamples, type NegativeSource, type UserPositives } from '../train/examples.js';
import { fitEpoch, tablesOf } from '../train/fit.js';
import type { LossKind } from '../train/types.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from './types.js';

export interface CentralOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly loss: LossKind;
  readonly negatives: number;
  readonly optimizer: OptimizerConfig;
  readonly evalEvery: number;
  readonly seed: number;
}

export function trainCentral(
  model: RecModel,
  positives: readonly UserPositives[],
  sampler: NegativeSource | null,
  options: CentralOptions,
  probe: ValidationProbe,
  onProgress?: ProgressListener,
): HistoryEntry[] {
  const grads = new RowSparseGrads(model.info);
  const optimizer = createOptimizer(options.optimizer);
  const tables = tablesOf(model);
  const trainable = model.info.map((p) => p.name);
  const history: HistoryEntry[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const started = performance.now();
    const rng = Rng.derive(options.seed, 'train-negatives', epoch);
    const examples = buildEpochExamples(positives, sampler, options.loss, options.negatives, rng);
    const loss = fitEpoch(model, examples, options.loss, options.batch, grads, optimizer, tables, trainable);
    const seconds = (performance.now() - started) / 1000;
    const evaluate = evaluatesAt(epoch, options.evalEvery, options.epochs);
    const entry: HistoryEntry = { round: epoch, loss, seconds, bytesUp: 0, bytesDown: 0, validation: evaluate ? probe(epoch) : {} };
    history.push(entry);
    onProgress?.(entry, options.epochs);
  }
  return history;
}
