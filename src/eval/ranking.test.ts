/**
 * Tests of evaluateRanking on hand-built splits with hand-written scorers: sampled and full protocols,
 * both parts, candidate exclusion, leakage guards, perfect / constant scorers and speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImplicitSplit } from '../data/types.js';
import { handSplit, syntheticSplit } from './fixtures.js';
import { evaluateRanking } from './ranking.js';
import type { Scorer } from './types.js';

function near(actual: number | undefined, expected: number, tolerance = 1e-9): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

/** A scorer reading a fixed table scores[user][item], recording every call. */
function tableScorer(scores: number[][]): Scorer & { calls: Array<{ user: number; items: number[] }> } {
  const calls: Array<{ user: number; items: number[] }> = [];
  return {
    nItems: scores[0].length,
    calls,
    scoreItems(user, items, out) {
      calls.push({ user, items: [...items] });
      for (let i = 0; i < items.length; i++) out[i] = scores[user][items[i]];
    },
  };
}

// User 0: train {0,1}, validation {2}, test {3}; user 1: train {4,5}, validation {6}, test {7};
// user 2: train only (no held-out positives: never evaluated).
const tiny = handSplit({
  nItems: 8,
  train: [[0, 1], [4, 5], [0, 1, 2]],
  validation: [[2], [6], []],
  test: [[3], [7], []],
  validationNegatives: [[4, 5, 6], [0, 1, 2], []],
  testNegatives: [[5, 6, 7], [1, 2, 3], []],
});
//                   item: 0  1  2  3    4    5  6  7
const tinyScores = [
  [9, 8, 7, 6.5, 7.5, 1, 2, 3],
  [1, 2, 3, 4, 9, 8, 6, 7],
  [0, 0, 0, 0, 0, 0, 0, 0],
];
const logTwo3 = Math.log2(3);

test('sampled, validation: u0 rank 1 (item 4 scores above), u1 rank 0', () => {
  const { sampled, full } = evaluateRanking(tableScorer(tinyScores), tiny, { part: 'validation', protocols: ['sampled'], ks: [1, 10] });
  assert.equal(full, undefined);
  assert.ok(sampled);
  assert.equal(sampled['HR@1'], 0.5);
  assert.equal(sampled['HR@10'], 1);
  near(sampled['NDCG@10'], (1 / logTwo3 + 1) / 2);
  near(sampled['NDCG@1'], 0.5);
  assert.equal(sampled['MRR@10'], 0.75);
  assert.equal(sampled['MAP@10'], 0.75);
  assert.equal(sampled['Recall@10'], 1);
  near(sampled['Precision@10'], 0.1);
  assert.equal(sampled['Precision@1'], 0.5);
});

test('sampled, test: both users rank 0; one scoreItems call per user over positive + its negatives', () => {
  const scorer = tableScorer(tinyScores);
  const { sampled } = evaluateRanking(scorer, tiny, { part: 'test', protocols: ['sampled'], ks: [1] });
  assert.deepEqual(sampled, { 'HR@1': 1, 'NDCG@1': 1, 'MRR@1': 1, 'MAP@1': 1, 'Recall@1': 1, 'Precision@1': 1 });
  assert.deepEqual(scorer.calls, [
    { user: 0, items: [3, 5, 6, 7] },
    { user: 1, items: [7, 1, 2, 3] },
  ]);
});

test('full, validation: test item is a candidate, train items are not', () => {
  const scorer = tableScorer(tinyScores);
  const { full, sampled } = evaluateRanking(scorer, tiny, { part: 'validation', protocols: ['full'], ks: [1, 10] });
  assert.equal(sampled, undefined);
  assert.ok(full);
  // u0: item 2 (7) below item 4 (7.5) → rank 1 (train items 0, 1 scoring 9, 8 would make it 3).
  // u1: item 6 (6) below test item 7 (7) → rank 1 (without the test item it would be 0).
  assert.equal(full['HR@1'], 0);
  assert.equal(full['HR@10'], 1);
  near(full['NDCG@10'], 1 / logTwo3);
  assert.equal(full['MRR@10'], 0.5);
  assert.deepEqual(scorer.calls, [
    { user: 0, items: [2, 3, 4, 5, 6, 7] },
    { user: 1, items: [6, 0, 1, 2, 3, 7] },
  ]);
});

test('full, test: validation and train items are excluded', () => {
  const scorer = tableScorer(tinyScores);
  const { full } = evaluateRanking(scorer, tiny, { part: 'test', protocols: ['full'], ks: [1, 10] });
  assert.ok(full);
  // u0: item 3 (6.5) below item 4 (7.5) only → rank 1 (validation item 2 at 7 would make it 2).
  // u1: item 7 (7) above every candidate → rank 0.
  assert.equal(full['HR@1'], 0.5);
  near(full['NDCG@10'], (1 / logTwo3 + 1) / 2);
  assert.equal(full['MRR@10'], 0.75);
  assert.deepEqual(scorer.calls, [
    { user: 0, items: [3, 4, 5, 6, 7] },
    { user: 1, items: [7, 0, 1, 2, 3] },
  ]);
});

test('users option restricts evaluation', () => {
  const scorer = tableScorer(tinyScores);
  const { sampled, full } = evaluateRanking(scorer, tiny, {
    part: 'validation',
    protocols: ['sampled', 'full'],
    ks: [1],
    users: Int32Array.of(1, 2),
  });
  assert.equal(sampled?.['HR@1'], 1);
  assert.equal(full?.['HR@1'], 0);
  assert.deepEqual(scorer.calls.map((call) => call.user), [1, 1]);
  assert.throws(() => evaluateRanking(scorer, tiny, { part: 'test', protocols: ['full'], ks: [1], users: Int32Array.of(2) }), /no user/);
  assert.throws(() => evaluateRanking(scorer, tiny, { part: 'test', protocols: ['full'], ks: [1], users: Int32Array.of(3) }), /range/);
});

// Several held-out positives (ratio split). User 0: test {1, 2} scoring 5, 5; candidate 3 scores 6.
// User 1: test {3} ranked below both of its negatives.
const multi = handSplit({
  nItems: 6,
  train: [[0], [0]],
  validation: [[], []],
  test: [[1, 2], [3]],
  validationNegatives: [[], []],
  testNegatives: [[4, 5], [4, 5]],
});
const multiScores = [
  [10, 5, 5, 6, 1, 0],
  [10, 1, 1, 0, 2, 3],
];

test('sampled with several positives: positives not compared with each other, mean over (user, positive) pairs', () => {
  const { sampled } = evaluateRanking(tableScorer(multiScores), multi, { part: 'test', protocols: ['sampled'], ks: [1] });
  // pairs: (u0, 1) rank 0, (u0, 2) rank 0, (u1, 3) rank 2 → HR@1 = 2/3 (a per-user mean would give 1/2)
  near(sampled?.['HR@1'], 2 / 3);
});

test('full with several positives: tie-fair ranks against the other positive, mean over users', () => {
  const { full } = evaluateRanking(tableScorer(multiScores), multi, { part: 'test', protocols: ['full'], ks: [2] });
  assert.ok(full);
  // u0: candidates {1,2,3,4,5}; each positive: item 3 greater, other positive tied → rank 1.5 (both)
  // u1: candidates {1,...,5}; item 3 (0): greater 1, 2, 4, 5 → rank 4
  const userZeroNdcg = (2 / Math.log2(3.5)) / (1 + 1 / Math.log2(3));
  near(full['HR@2'], 0.5);
  near(full['NDCG@2'], userZeroNdcg / 2);
  near(full['NDCG@2'], 0.678502 / 2, 1e-6);
  near(full['MRR@2'], 1 / 2.5 / 2);
  near(full['MAP@2'], (1 / 2.5 + 2 / 2.5) / 2 / 2);
  near(full['Recall@2'], 0.5);
  near(full['Precision@2'], 0.5);
});

test('a held-out item that is also a train item is rejected in the full protocol', () => {
  const leaky = handSplit({ nItems: 4, train: [[0, 1]], validation: [[2]], test: [[1]], validationNegatives: [[3]], testNegatives: [[3]] });
  assert.throws(() => evaluateRanking(tableScorer([[0, 1, 2, 3]]), leaky, { part: 'test', protocols: ['full'], ks: [1] }), /excluded/);
});

test('a user with held-out positives but no evaluation negatives is rejected in the sampled protocol', () => {
  const noNegatives = handSplit({ nItems: 4, train: [[0]], validation: [[1]], test: [[2]], validationNegatives: [[]], testNegatives: [[3]] });
  assert.throws(() => evaluateRanking(tableScorer([[0, 1, 2, 3]]), noNegatives, { part: 'validation', protocols: ['sampled'], ks: [1] }), /no validation negatives/);
});

test('scorer and split must agree on the number of items', () => {
  assert.throws(() => evaluateRanking(tableScorer([[0, 1]]), tiny, { part: 'test', protocols: ['full'], ks: [1] }), /items/);
});

/** Scores 1 for the items held out in `part`, 0 elsewhere. */
function perfectScorer(split: ImplicitSplit, part: 'validation' | 'test'): Scorer {
  const rows = split[part];
  return {
    nItems: split.nItems,
    scoreItems(user, items, out) {
      const heldOut = new Set(rows.indices.subarray(rows.indptr[user], rows.indptr[user + 1]));
      for (let i = 0; i < items.length; i++) out[i] = heldOut.has(items[i]) ? 1 : 0;
    },
  };
}

const constantScorer = (nItems: number): Scorer => ({ nItems, scoreItems: (_user, _items, out) => out.fill(0.25) });

test('a perfect scorer gets HR = NDCG = 1 on both protocols and parts', () => {
  const split = syntheticSplit(50, 400, 10, 7);
  for (const part of ['validation', 'test'] as const) {
    const result = evaluateRanking(perfectScorer(split, part), split, { part, protocols: ['sampled', 'full'], ks: [10] });
    for (const metrics of [result.sampled, result.full]) {
      assert.equal(metrics?.['HR@10'], 1);
      assert.equal(metrics?.['NDCG@10'], 1);
      assert.equal(metrics?.['MRR@10'], 1);
    }
  }
});

test('a constant scorer gets the tie-fair value, never a free hit', () => {
  const split = syntheticSplit(50, 400, 10, 8);
  const { sampled, full } = evaluateRanking(constantScorer(400), split, { part: 'test', protocols: ['sampled', 'full'], ks: [10, 100] });
  // sampled: rank 49.5 among 99 negatives
  assert.equal(sampled?.['HR@10'], 0);
  assert.equal(sampled?.['NDCG@10'], 0);
  assert.equal(sampled?.['HR@100'], 1);
  near(sampled?.['NDCG@100'], 1 / Math.log2(51.5));
  near(sampled?.['MRR@100'], 1 / 50.5);
  // full at test: 400 − 10 train − 1 validation = 389 candidates → rank 194
  assert.equal(full?.['HR@100'], 0);
});

test('evaluates 6040 users × 3706 items (ML-1M scale) with both protocols', () => {
  const split = syntheticSplit(6040, 3706, 100, 9);
  const cheap: Scorer = {
    nItems: 3706,
    scoreItems(user, items, out) {
      for (let i = 0; i < items.length; i++) out[i] = ((items[i] * 2654435761 + user) % 1000) / 1000;
    },
  };
  const result = evaluateRanking(cheap, split, { part: 'test', protocols: ['sampled', 'full'], ks: [10, 20] });
  for (const m of [result.sampled!, result.full!]) {
    for (const v of Object.values(m)) assert.ok(v >= 0 && v <= 1);
  }
});
