import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recencyRanks } from '../data/recency.js';
import { repeatRecent } from './recency.js';

test('recency ranks: 0 for the latest, ties towards the larger item id', () => {
  const items = Int32Array.of(2, 5, 7, 9);
  assert.deepEqual(recencyRanks(items, [30, 10, 30, 20]), Int32Array.of(1, 3, 0, 2));
  assert.throws(() => recencyRanks(items, [1, 2]), /4 items but 2 times/);
});

test('repeatRecent: the window latest entries count weight times, aligned for items and ratings', () => {
  const items = Int32Array.of(2, 5, 7, 9);
  const ratings = Float32Array.of(1, 2, 3, 4);
  const ranks = Int32Array.of(1, 3, 0, 2);
  const w = { window: 2, weight: 3 };
  assert.deepEqual(repeatRecent(items, ranks, w), Int32Array.of(2, 5, 7, 9, 2, 7, 2, 7));
  assert.deepEqual(repeatRecent(ratings, ranks, w), Float32Array.of(1, 2, 3, 4, 1, 3, 1, 3));
  assert.equal(repeatRecent(items, ranks, { window: 2, weight: 1 }), items, 'weight 1: unchanged');
  assert.equal(repeatRecent(items, ranks, { window: 0, weight: 3 }), items, 'window 0: unchanged');
  assert.equal(repeatRecent(items, null, w), items, 'no timestamps: unchanged');
  assert.equal(repeatRecent(items, ranks, undefined), items);
  assert.throws(() => repeatRecent(items, Int32Array.of(0), w), /4 values but 1 ranks/);
});
