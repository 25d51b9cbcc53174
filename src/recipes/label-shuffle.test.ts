/**
 * The shuffled-label guard of EVALUATION.md on real data: MovieLens-100K, whose item popularity is
 * strongly skewed (skipped, with the reason, when ../shared/data/ml-100k is missing). Central MF
 * trained on labels that carry no information must score at chance on the sampled protocol; trained
 * on labels that carry only item popularity, it must not beat the popularity baseline. Anything
 * above would have to come from the held-out items or their evaluation negatives reaching training.
 * Tolerance 0.03: three binomial standard deviations of HR@10 over 943 test users at p = 0.10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../data/readers.js';
import { leaveOneOut, withTrainSet } from '../data/split.js';
import { NegativeSampler } from '../data/negatives.js';
import { rowOf } from '../data/user-items.js';
import type { ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer } from '../eval/baselines.js';
import { Rng } from '../math/rng.js';
import { createModel } from '../models/registry.js';
import type { UserPositives } from '../train/examples.js';
import { trainCentral } from '../simulation/central.js';

const ML100K = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/ml-100k');
const skip = existsSync(join(ML100K, 'u.data')) ? false : `MovieLens-100K not found at ${ML100K}: the real-data shuffled-label guard needs it`;
const TOLERANCE = 0.03;

/**
 * Test HR@10 of MF trained on `positives` as the user's train set: the negative sampler excludes
 * them, as in a real run. (Excluding the true train items instead leaks popularity on real data:
 * those items are never negatives, so popular items gain; measured 0.133 on uniform labels.)
 */
function sampledTestHR(split: ImplicitSplit, positives: UserPositives[]): number {
  const shuffled = withTrainSet(split, positives);
  const model = createModel({ kind: 'mf', dim: 16 }, split.nUsers, split.nItems, { seed: 1 });
  trainCentral(model, positives, new NegativeSampler(shuffled), { epochs: 4, batch: 256, loss: 'bce', negatives: 4, optimizer: { kind: 'adam', lr: 0.005 }, evalEvery: 100, seed: 1 }, () => ({}));
  return evaluateRanking(model, split, { part: 'test', protocols: ['sampled'], ks: [10] }).sampled!['HR@10'];
}

test('ML-100K, shuffled labels: at chance when labels carry nothing, no better than popularity when they carry only popularity', { skip }, async () => {
  const split = leaveOneOut(await loadDataset({ path: ML100K }), { seed: 42 });
  const rng = new Rng(99);
  // Uniform random items, as many as each user's train positives.
  const uniform = Array.from({ length: split.nUsers }, (_, u) => ({ user: u, items: Int32Array.from({ length: rowOf(split.train, u).length }, () => rng.int(split.nItems)) }));
  const hrUniform = sampledTestHR(split, uniform);
  assert.ok(Math.abs(hrUniform - 0.1) < TOLERANCE, `uniform random labels: sampled HR@10 ${hrUniform}, chance 0.10`);
  // The item column of all train pairs permuted across users: item popularity kept, users' tastes gone.
  const permuted = rng.shuffle(Int32Array.from(split.train.indices));
  const popularityOnly = Array.from({ length: split.nUsers }, (_, u) => ({ user: u, items: permuted.slice(split.train.indptr[u], split.train.indptr[u + 1]) }));
  const hrPopularityOnly = sampledTestHR(split, popularityOnly);
  const hrPopularity = evaluateRanking(popularityScorer(split), split, { part: 'test', protocols: ['sampled'], ks: [10] }).sampled!['HR@10'];
  assert.ok(hrPopularityOnly < hrPopularity + TOLERANCE, `popularity-only labels: sampled HR@10 ${hrPopularityOnly}, popularity baseline ${hrPopularity}`);
  assert.ok(hrPopularityOnly > 0.1 + TOLERANCE, `the skew is real: a popularity-only model ${hrPopularityOnly} is well above chance`);
  process.stdout.write(`# ML-100K shuffled labels: uniform ${hrUniform.toFixed(4)} (chance 0.10), popularity-only ${hrPopularityOnly.toFixed(4)} (popularity baseline ${hrPopularity.toFixed(4)})\n`);
});
