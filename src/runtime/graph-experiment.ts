/**
 * Entry point of graph-model runs (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022),
 * called by `runTraining` for `--model lightgcn|ncl`: centralised (graph-central.ts) or federated
 * (graph-federated.ts). Data, split, evaluation and the result document stay with runTraining.
 */
import type { ImplicitSplit } from '../data/types.js';
import type { RankingResult } from '../eval/types.js';
import type { RecModel } from '../models/types.js';
import type { TrainConfig } from './config.js';
import { trainGraphCentral, type GraphRun } from './graph-central.js';
import { trainGraphFederated } from './graph-federated.js';
import { graphSettings } from './graph-settings.js';
import type { ProgressListener } from './types.js';

export function trainGraph(
  c: TrainConfig,
  split: ImplicitSplit,
  /** Validation probe of the model after `epoch` (epoch or round); the caller may keep the best. */
  probe: (model: RecModel, epoch: number) => RankingResult,
  onProgress?: ProgressListener,
): GraphRun {
  const settings = graphSettings(c);
  return c.mode === 'central' ? trainGraphCentral(settings, split, probe, onProgress) : trainGraphFederated(settings, c, split, probe, onProgress);
}
