/**
 * `loo-full`: why fedrec reports no full ranking on a leave-one-out split (docs/evaluation.md).
 * Centralised MF with its default plan on ML-100K (leave-one-out by time, best-validation epoch),
 * trained twice, differing only in which items a user's training negatives may be:
 *  - protected: never the user's held-out positives (fedrec's leave-one-out sampler: the sampled
 *    protocol's candidates — held-out item and its 99 negatives — are all untouched by training);
 *  - reference: the held-out positives may be drawn (NCF / RecBole draw from "not in train"; the
 *    evaluation negatives stay excluded, EVALUATION.md's leakage guard).
 * Each prints sampled and full test HR@10 / NDCG@10; then both samplers on shuffled labels (every
 * user's train positives replaced by uniform random items): sampled HR@10 must be 0.10 (chance).
 * One training serves one protocol honestly, not both: the figures show which is inflated.
 */
import { NegativeSampler } from '../data/negatives.js';
import { rowOf } from '../data/user-items.js';
import { withTrainSet } from '../data/split.js';
import type { ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer } from '../eval/baselines.js';
import { Rng } from '../math/rng.js';
import { cloneParams } from '../models/params.js';
import { createModel } from '../models/registry.js';
import { parseTrainConfig, clientOptimizerOf, effectiveBatch, type TrainConfig } from '../config/config.js';
import { centralPositives, loadConfiguredSplit, modelConfigOf } from '../recipes/experiment.js';
import { trainCentral } from '../simulation/central.js';
import { BestCheckpoint } from '../simulation/selection.js';
import type { UserPositives } from '../train/examples.js';
import { ml100kPath } from './util.js';

type Sampler = 'protected' | 'reference';

function samplerOf(split: ImplicitSplit, kind: Sampler): NegativeSampler {
  // The ratio split's exclusion set is train positives + evaluation negatives: the reference draws.
  return new NegativeSampler(kind === 'protected' ? split : { ...split, method: 'ratio' });
}

function trainAndTest(c: TrainConfig, split: ImplicitSplit, positives: UserPositives[], kind: Sampler, full = true): Record<string, number> {
  const model = createModel(modelConfigOf(c), split.nUsers, split.nItems, { seed: c.seed });
  const selection = new BestCheckpoint(c.k[0]);
  trainCentral(
    model,
    positives,
    samplerOf(split, kind),
    { epochs: c.epochs, batch: effectiveBatch(c), loss: c.loss, negatives: c.negatives, optimizer: clientOptimizerOf(c), evalEvery: c.evalEvery, seed: c.seed },
    (epoch) => {
      const validation = evaluateRanking(model, split, { part: 'validation', protocols: ['sampled'], ks: [10] });
      selection.consider(epoch, validation, () => cloneParams(model.params));
      return validation;
    },
  );
  const best = createModel(model.config, model.nUsers, model.nItems, selection.best!);
  const test = evaluateRanking(best, split, { part: 'test', protocols: full ? ['sampled', 'full'] : ['sampled'], ks: [10] });
  return {
    epoch: selection.round,
    sampledHR: test.sampled!['HR@10'], sampledNDCG: test.sampled!['NDCG@10'],
    fullHR: test.full?.['HR@10'] ?? NaN, fullNDCG: test.full?.['NDCG@10'] ?? NaN,
  };
}

export async function looFullBenchmark(): Promise<void> {
  const data = ml100kPath();
  const c = parseTrainConfig({ mode: 'central', ...(data ? { data } : {}), evalEvery: 1 });
  const { split } = await loadConfiguredSplit(c);
  const fmt = (x: number) => x.toFixed(4);
  process.stdout.write(`centralised MF, ${data ? 'ML-100K' : 'synthetic'}, ${split.method}, ${c.epochs} epochs (best validation epoch), seed ${c.seed}\n`);
  const pop = evaluateRanking(popularityScorer(split), split, { part: 'test', protocols: ['sampled', 'full'], ks: [10] });
  process.stdout.write(`popularity                      sampled HR@10 ${fmt(pop.sampled!['HR@10'])} NDCG@10 ${fmt(pop.sampled!['NDCG@10'])}   full HR@10 ${fmt(pop.full!['HR@10'])} NDCG@10 ${fmt(pop.full!['NDCG@10'])}\n`);
  const positives = centralPositives(split, c);
  const shuffledOnly = process.env.LOO_FULL_SHUFFLED_ONLY === '1';
  for (const kind of shuffledOnly ? [] : (['protected', 'reference'] as const)) {
    const r = trainAndTest(c, split, positives, kind);
    process.stdout.write(`MF, ${kind.padEnd(9)} negatives (ep ${String(r.epoch).padStart(2)}) sampled HR@10 ${fmt(r.sampledHR)} NDCG@10 ${fmt(r.sampledNDCG)}   full HR@10 ${fmt(r.fullHR)} NDCG@10 ${fmt(r.fullNDCG)}\n`);
  }
  // Shuffled labels: uniform random train positives, as many as each user has; they are the train
  // set the sampler excludes, as in a real run (excluding the true train items instead would leak
  // popularity: they are never negatives, so popular items gain).
  const rng = new Rng(99);
  const random = Array.from({ length: split.nUsers }, (_, u) => ({ user: u, items: Int32Array.from({ length: rowOf(split.train, u).length }, () => rng.int(split.nItems)) }));
  const shuffled = withTrainSet(split, random);
  for (const kind of ['protected', 'reference'] as const) {
    const r = trainAndTest({ ...c, epochs: 5, recencyWindow: 0 }, shuffled, random, kind, false);
    process.stdout.write(`shuffled labels, ${kind.padEnd(9)} negatives: sampled HR@10 ${fmt(r.sampledHR)} (chance 0.10; ±0.03 is 3 binomial s.d. for 943 users)\n`);
  }
}

