/** Tests of the metric functions against values worked out by hand (EVALUATION.md definitions). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averagePrecision,
  explicitMetrics,
  hitRate,
  mrr,
  ndcg,
  precision,
  rankingMetrics,
  recall,
} from './metrics.js';

function near(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

test('single positive at rank 0', () => {
  assert.deepEqual(rankingMetrics([0], [10]), {
    'HR@10': 1,
    'NDCG@10': 1,
    'MRR@10': 1,
    'MAP@10': 1,
    'Recall@10': 1,
    'Precision@10': 0.1,
  });
});

test('single positive at rank 3', () => {
  const m = rankingMetrics([3], [10]);
  assert.equal(m['HR@10'], 1);
  near(m['NDCG@10'], 1 / Math.log2(5)); // 0.4307
  near(m['NDCG@10'], 0.430676558, 1e-9);
  assert.equal(m['MRR@10'], 0.25);
  assert.equal(m['MAP@10'], 0.25);
  assert.equal(m['Recall@10'], 1);
  assert.equal(m['Precision@10'], 0.1);
});

test('single positive at rank 12 is a miss at K=10 and a hit at K=20', () => {
  const m = rankingMetrics([12], [10, 20]);
  for (const name of ['HR', 'NDCG', 'MRR', 'MAP', 'Recall', 'Precision']) assert.equal(m[`${name}@10`], 0, name);
  assert.equal(m['HR@20'], 1);
  near(m['NDCG@20'], 1 / Math.log2(14));
  near(m['MRR@20'], 1 / 13);
  near(m['MAP@20'], 1 / 13);
  assert.equal(m['Recall@20'], 1);
  assert.equal(m['Precision@20'], 1 / 20);
});

test('metric keys: every metric for every K, exact names', () => {
  assert.deepEqual(Object.keys(rankingMetrics([0], [5, 10])).sort(), [
    'HR@10', 'HR@5', 'MAP@10', 'MAP@5', 'MRR@10', 'MRR@5', 'NDCG@10', 'NDCG@5', 'Precision@10', 'Precision@5',
    'Recall@10', 'Recall@5',
  ]);
});

test('three positives at ranks 15, 0, 2 (order does not matter)', () => {
  const ranks = [15, 0, 2];
  assert.equal(hitRate(ranks, 10), 1);
  // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/2 = 2.1309298
  near(ndcg(ranks, 10), 1.5 / (1 + 1 / Math.log2(3) + 0.5));
  near(ndcg(ranks, 10), 0.7039180, 1e-6);
  assert.equal(mrr(ranks, 10), 1);
  // AP: 1/1 + 2/3, over min(3, 10) = 3 → 5/9
  near(averagePrecision(ranks, 10), 5 / 9);
  near(recall(ranks, 10), 2 / 3);
  assert.equal(precision(ranks, 10), 0.2);
});

test('more positives than K: IDCG and AP normalise by K', () => {
  const ranks = [1, 3, 4];
  // K = 2: only rank 1 counts. IDCG = 1 + 1/log2(3); DCG = 1/log2(3).
  near(ndcg(ranks, 2), 1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
  near(averagePrecision(ranks, 2), 1 / 2 / 2); // j=0, r=1 → 1/2; divided by min(3, 2) = 2
  assert.equal(mrr(ranks, 2), 0.5);
  near(recall(ranks, 2), 1 / 3);
  assert.equal(precision(ranks, 2), 0.5);
});

test('fractional tie rank 2 (one greater, two equal)', () => {
  assert.equal(hitRate([2], 2), 0);
  assert.equal(hitRate([2], 3), 1);
  near(ndcg([2], 3), 0.5); // 1/log2(4)
  near(mrr([2], 3), 1 / 3);
});

test('fractional rank just below and at the cutoff', () => {
  const m = rankingMetrics([9.5], [10]);
  assert.equal(m['HR@10'], 1);
  near(m['NDCG@10'], 1 / Math.log2(11.5));
  near(m['MRR@10'], 1 / 10.5);
  near(m['MAP@10'], 1 / 10.5);
  assert.equal(m['Precision@10'], 0.1);
  assert.equal(hitRate([10], 10), 0);
  assert.equal(hitRate([49.5], 10), 0);
});

test('rejects empty rank lists and bad K', () => {
  assert.throws(() => hitRate([], 10));
  assert.throws(() => ndcg([1], 0));
  assert.throws(() => recall([1], 2.5));
});

test('explicit metrics by hand', () => {
  // errors: 0.5, 1, 0, 2 → RMSE = sqrt((0.25+1+0+4)/4) = sqrt(1.3125); MAE = 3.5/4; accuracy 2/4
  const m = explicitMetrics(Float32Array.of(3.5, 2, 4, 3), Float32Array.of(4, 3, 4, 5));
  near(m.rmse, Math.sqrt(1.3125));
  near(m.mae, 0.875);
  assert.equal(m.ratingAccuracy, 0.5);
});

test('explicit metrics clip only when asked', () => {
  const predictions = Float32Array.of(6, 0);
  const targets = Float32Array.of(5, 1);
  const raw = explicitMetrics(predictions, targets);
  assert.equal(raw.mae, 1);
  assert.equal(raw.ratingAccuracy, 0);
  const clipped = explicitMetrics(predictions, targets, { clip: true });
  assert.deepEqual(clipped, { rmse: 0, mae: 0, ratingAccuracy: 1 });
  const tenPoint = explicitMetrics(Float32Array.of(12), Float32Array.of(9), { clip: true, range: [1, 10] });
  assert.equal(tenPoint.mae, 1);
  assert.throws(() => explicitMetrics(Float32Array.of(1), Float32Array.of(1, 2)));
  assert.throws(() => explicitMetrics(new Float32Array(0), new Float32Array(0)));
});
