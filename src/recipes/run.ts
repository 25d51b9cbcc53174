/**
 * One entry for every kind of training run: a validated config goes to the recipe that runs it
 * (FedAvg / central MF, NeuMF, LightGCN, NCL; Federated Reconstruction; text-aware graph
 * aggregation). The CLI and the programmatic API both call this, so they run the same thing.
 */
import type { ResultDocument } from '../report/result.js';
import type { Dataset, ImplicitSplit } from '../data/types.js';
import type { RecModel } from '../models/types.js';
import type { TrainConfig } from '../config/config.js';
import { runTraining } from './experiment.js';
import { runFedReconTraining } from './fedrecon-experiment.js';
import { runTextGraphTraining } from './text-graph-experiment.js';
import { runMfGraphTraining } from './mf-graph-experiment.js';
import type { ProgressListener } from '../report/history.js';

/** What any run gives back; `model` and `split` where the recipe has a single global model / split. */
export interface RunOutcome {
  readonly result: ResultDocument;
  readonly dataset: Dataset;
  readonly split?: ImplicitSplit;
  /** The trained model (MF, NeuMF, LightGCN, NCL); absent for FedRecon and text-graph (personalised per device). */
  readonly model?: RecModel;
}

export async function runConfiguredTraining(c: TrainConfig, onProgress?: ProgressListener): Promise<RunOutcome> {
  if (c.model === 'text-graph') return runTextGraphTraining(c, onProgress);
  if (c.algorithm === 'fedrecon') return runFedReconTraining(c, onProgress);
  if (c.algorithm === 'graph' && c.mode === 'federated') return runMfGraphTraining(c, onProgress);
  return runTraining(c, onProgress);
}
