/**
 * Entry point of graph-model runs (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022),
 * called by `runTraining` for `--model lightgcn|ncl`: centralised (graph-central.ts) or federated
 * (graph-federated.ts). Data, split, evaluation and the result document stay with runTraining.
 */
import type { ImplicitSplit } from '../data/types.js';
import type { RankingResult } from '../eval/types.js';
import type { RecModel } from '../models/types.js';
import { ConfigError, type TrainConfig } from '../config/config.js';
import { trainGraphCentral, type GraphRun } from './graph-central.js';
import { trainGraphFederated, type SecureSumOption } from './graph-federated.js';
import { graphSettings } from '../config/graph-settings.js';
import type { ProgressListener } from '../report/history.js';

export function trainGraph(
  c: TrainConfig,
  split: ImplicitSplit,
  /** Validation probe of the model after `epoch` (epoch or round); the caller may keep the best. */
  probe: (model: RecModel, epoch: number) => RankingResult,
  onProgress?: ProgressListener,
  /** Fold each federated round through the secure sum (the coordinator's secure aggregation, without the cryptography). */
  secureSum?: SecureSumOption,
): GraphRun {
  const settings = graphSettings(c);
  if (secureSum && c.mode === 'central') throw new ConfigError(`a secure-sum simulation needs mode 'federated', not '${c.mode}'`);
  return c.mode === 'central' ? trainGraphCentral(settings, split, probe, onProgress) : trainGraphFederated(settings, c, split, probe, onProgress, secureSum);
}
