/** Tests of the popularity and random baseline scorers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { popularityScorer, randomScorer } from './baselines.js';
import { handSplit, syntheticSplit } from './fixtures.js';
import { evaluateRanking } from './ranking.js';

function scores(scorer: { scoreItems(user: number, items: Int32Array, out: Float32Array): void }, user: number, items: number[]): number[] {
  const out = new Float32Array(items.length);
  scorer.scoreItems(user, Int32Array.from(items), out);
  return [...out];
}

test('popularity counts TRAIN interactions only', () => {
  const split = handSplit({
    nItems: 5,
    train: [[0, 1], [1, 2], [1]],
    validation: [[3], [3], [4]],
    test: [[4], [4], [3]],
    validationNegatives: [[2], [0], [0]],
    testNegatives: [[2], [0], [0]],
  });
  const scorer = popularityScorer(split);
  assert.equal(scorer.nItems, 5);
  // item 0: 1, item 1: 3, item 2: 1, items 3 and 4: held out only → 0
  assert.deepEqual(scores(scorer, 0, [0, 1, 2, 3, 4]), [1, 3, 1, 0, 0]);
  assert.deepEqual(scores(scorer, 2, [4, 1]), [0, 3]);
});

test('random scores are in [0, 1), fixed by (seed, user, item), independent of call order', () => {
  const a = randomScorer(1000, 42);
  const b = randomScorer(1000, 42);
  const forward = scores(a, 3, [10, 20, 30, 40]);
  for (const s of forward) assert.ok(s >= 0 && s < 1);
  assert.deepEqual(scores(b, 5, [1, 2]), scores(a, 5, [1, 2]));
  const backward = scores(b, 3, [40, 30, 20, 10]).reverse();
  assert.deepEqual(backward, forward);
  assert.deepEqual(scores(a, 3, [30]), [forward[2]]);
  assert.notDeepEqual(scores(randomScorer(1000, 43), 3, [10, 20, 30, 40]), forward);
  assert.notDeepEqual(scores(a, 4, [10, 20, 30, 40]), forward);
});

test('random scorer: sampled HR@10 ≈ 10/100 over many users, reproducibly', () => {
  const split = syntheticSplit(3000, 2000, 20, 11);
  const run = () => evaluateRanking(randomScorer(2000, 5), split, { part: 'test', protocols: ['sampled'], ks: [10] }).sampled;
  const first = run();
  // standard error sqrt(0.1 · 0.9 / 3000) ≈ 0.0055
  assert.ok(Math.abs((first?.['HR@10'] ?? NaN) - 0.1) < 0.025, `HR@10 = ${first?.['HR@10']}`);
  assert.deepEqual(run(), first);
});

test('popularity ranks train-popular held-out items above never-trained negatives', () => {
  // Items 0..9 are in every user's train set except their own held-out one; negatives are 10..19 (never trained).
  const nUsers = 10;
  const train = Array.from({ length: nUsers }, (_, u) => Array.from({ length: 10 }, (_, i) => i).filter((i) => i !== u));
  const split = handSplit({
    nItems: 20,
    train,
    validation: Array.from({ length: nUsers }, () => []),
    test: Array.from({ length: nUsers }, (_, u) => [u]),
    validationNegatives: Array.from({ length: nUsers }, () => []),
    testNegatives: Array.from({ length: nUsers }, () => Array.from({ length: 10 }, (_, i) => 10 + i)),
  });
  const { sampled } = evaluateRanking(popularityScorer(split), split, { part: 'test', protocols: ['sampled'], ks: [1] });
  assert.equal(sampled?.['HR@1'], 1);
});
