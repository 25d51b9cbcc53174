/**
 * Centralised training of the graph models, LightGCN (He et al., SIGIR 2020) and NCL (Lin et al.,
 * WWW 2022), RecBole-GNN's schedule. Per epoch:
 *  1. NCL after warm-up: E-step, k-means on the layer-0 user and item tables → prototypes;
 *  2. fresh training triples: every train positive with one sampled negative (NegativeSampler:
 *     never a held-out positive or an evaluation negative);
 *  3. minibatches: propagate, BPR + L2 (+ NCL terms), back-propagate, Adam step (GraphTrainer);
 *  4. every `evalEvery` epochs, a validation probe on the exported scoring model (runTraining keeps
 *     the best-validation checkpoint, as for MF).
 * Epoch seconds include the k-means.
 */
import type { PrivacyReport } from '../privacy/dp-fedavg.js';
import { rowOf } from '../data/user-items.js';
import { NegativeSampler } from '../data/negatives.js';
import type { ImplicitSplit } from '../data/types.js';
import { Rng } from '../math/rng.js';
import { GraphTrainer } from '../models/lightgcn/fit.js';
import { LightGcn } from '../models/lightgcn/model.js';
import { NclLoss } from '../models/ncl/loss.js';
import { computePrototypes } from '../models/ncl/prototypes.js';
import type { RecModel } from '../models/types.js';
import { createOptimizer } from '../optim/registry.js';
import { buildEpochExamples } from '../train/examples.js';
import type { GraphSettings } from '../config/graph-settings.js';
import { runEpochs } from '../simulation/epoch-engine.js';
import type { HistoryEntry, ProgressListener } from '../report/history.js';
import type { RankingResult } from '../eval/types.js';

export interface GraphRun {
  readonly model: RecModel;
  readonly history: HistoryEntry[];
  /** User-level DP runs (federated): the privacy spent. */
  readonly privacy?: PrivacyReport;
}

export function trainGraphCentral(
  s: GraphSettings,
  split: ImplicitSplit,
  probe: (model: RecModel, epoch: number) => RankingResult,
  onProgress?: ProgressListener,
): GraphRun {
  const { nUsers, nItems } = split;
  const positives = Array.from({ length: nUsers }, (_, u) => ({ user: u, items: rowOf(split.train, u) }));
  const sampler = new NegativeSampler(split);
  const model = new LightGcn({ nUsers, nItems, dim: s.dim, layers: s.layers, depth: s.ncl ? Math.max(s.layers, 2 * s.ncl.hyperLayers) : s.layers }, split.train, { seed: s.seed });
  const ncl = s.ncl ? new NclLoss(nUsers, nItems, s.dim, { ...s.ncl, userSide: true }) : null;
  const trainer = new GraphTrainer(model, createOptimizer(s.optimizer), { batch: s.batch, reg: s.reg }, ncl);
  const history = runEpochs(s, (epoch) => {
    if (ncl && s.ncl && epoch > s.ncl.warmUp) {
      const opts = { clusters: s.ncl.clusters, iterations: s.ncl.kmeansIterations };
      ncl.userPrototypes = computePrototypes(model.userEmb, s.dim, { ...opts, seed: Rng.derive(s.seed, 'e-step-users', epoch).nextU32() });
      ncl.itemPrototypes = computePrototypes(model.itemEmb, s.dim, { ...opts, seed: Rng.derive(s.seed, 'e-step-items', epoch).nextU32() });
    }
    const examples = buildEpochExamples(positives, sampler, 'bpr', 1, Rng.derive(s.seed, 'train-negatives', epoch));
    return trainer.fitEpoch(examples);
  }, (epoch) => probe(model.toScoringModel(), epoch), onProgress);
  return { model: model.toScoringModel(), history };
}
