/**
 * Centralised training, the reference point for every federated result: one model over all users,
 * minibatch training with negatives renewed every epoch (NCF protocol), optional validation probes.
 */
import { Rng } from '../math/rng.js';
import { RowSparseGrads } from '../models/params.js';
import { runEpochs } from './epoch-engine.js';
import type { RecModel } from '../models/types.js';
import { createOptimizer } from '../optim/registry.js';
import type { OptimizerConfig } from '../optim/types.js';
import { buildEpochExamples, type NegativeSource, type UserPositives } from '../train/examples.js';
import { fitEpoch, tablesOf } from '../train/fit.js';
import type { LossKind } from '../train/types.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from '../report/history.js';

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
  return runEpochs(options, (epoch) => {
    const rng = Rng.derive(options.seed, 'train-negatives', epoch);
    const examples = buildEpochExamples(positives, sampler, options.loss, options.negatives, rng);
    return fitEpoch(model, examples, options.loss, options.batch, grads, optimizer, tables, trainable);
  }, probe, onProgress);
}
