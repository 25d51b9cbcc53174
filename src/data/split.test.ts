import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from './synthetic.js';
import { leaveOneOut, ratioSplit, userSplit } from './split.js';
import { buildUserItems, hasItem, rowOf } from './user-items.js';
import type { Dataset, ImplicitSplit } from './types.js';

/** A data set with dense ids given directly: rows of [user, item, rating?, timestamp?]. */
function datasetOf(nUsers: number, nItems: number, rows: ReadonlyArray<readonly number[]>, withTime = true): Dataset {
  const userIds = Array.from({ length: nUsers }, (_, u) => `u${u}`);
  const itemIds = Array.from({ length: nItems }, (_, i) => `i${i}`);
  return {
    name: 'test',
    nUsers,
    nItems,
    interactions: {
      users: Int32Array.from(rows, (r) => r[0]),
      items: Int32Array.from(rows, (r) => r[1]),
      ratings: Float32Array.from(rows, (r) => r[2] ?? 0),
      timestamps: withTime ? Float64Array.from(rows, (r) => r[3] ?? 0) : null,
    },
    userIds,
    itemIds,
    userIndex: new Map(userIds.map((id, u) => [id, u])),
    itemIndex: new Map(itemIds.map((id, i) => [id, i])),
    side: {},
  };
}

function interactionsPerUser(ds: Dataset): Int32Array {
  const counts = new Int32Array(ds.nUsers);
  for (const u of ds.interactions.users) counts[u]++;
  return counts;
}

const rowList = (split: ImplicitSplit, part: 'train' | 'validation' | 'test', u: number): number[] => [...rowOf(split[part], u)];

test('leave-one-out by time: latest is test (ties: larger item id), second latest validation', () => {
  const ds = datasetOf(2, 300, [
    [0, 5, 4, 10],
    [0, 3, 2, 30],
    [0, 7, 5, 30],
    [0, 1, 1, 20],
    [1, 2, 3, 50],
    [1, 4, 3, 60],
  ]);
  const split = leaveOneOut(ds, { seed: 1 });
  assert.equal(split.method, 'leave-one-out-time');
  assert.deepEqual(rowList(split, 'test', 0), [7]);
  assert.deepEqual(rowList(split, 'validation', 0), [3]);
  assert.deepEqual(rowList(split, 'train', 0), [1, 5]);
  assert.deepEqual([...split.test.values!.subarray(0, 1)], [5]);
  assert.deepEqual([...split.train.values!.subarray(0, 2)], [1, 4]);
  // Fewer than 3 interactions: everything stays in train, no evaluation negatives.
  assert.deepEqual(rowList(split, 'train', 1), [2, 4]);
  assert.deepEqual(rowList(split, 'test', 1), []);
  assert.deepEqual(rowList(split, 'validation', 1), []);
  assert.equal(rowOf(split.negatives.test, 1).length, 0);
  assert.equal(rowOf(split.negatives.test, 0).length, 99);
  // Recency rank of each train entry, aligned with the train rows: user 0's train [1 (t20), 5 (t10)].
  assert.deepEqual([...split.trainRecency!], [0, 1, 1, 0]);
  assert.equal(leaveOneOut(datasetOf(1, 300, [[0, 1], [0, 2], [0, 3]], false), { seed: 1 }).trainRecency, null);
});

test('leave-one-out without timestamps is random per user, reproducible with the seed', () => {
  const ds = generateSynthetic({ users: 60, items: 200, interactions: 1200, seed: 3, timestamps: false });
  const a = leaveOneOut(ds, { seed: 7 });
  const b = leaveOneOut(ds, { seed: 7 });
  const c = leaveOneOut(ds, { seed: 8 });
  assert.equal(a.method, 'leave-one-out-random');
  assert.deepEqual(a, b);
  assert.notDeepEqual([...a.test.indices], [...c.test.indices]);
  const counts = interactionsPerUser(ds);
  for (let u = 0; u < ds.nUsers; u++) {
    assert.equal(rowOf(a.test, u).length, 1);
    assert.equal(rowOf(a.validation, u).length, 1);
    assert.equal(rowOf(a.train, u).length, counts[u] - 2);
    const union = new Set([...rowOf(a.train, u), ...rowOf(a.validation, u), ...rowOf(a.test, u)]);
    assert.equal(union.size, counts[u]);
  }
});

test('ratio split: RecBole per-user sizes, at least one train item', () => {
  const rows: number[][] = [];
  for (let i = 0; i < 10; i++) rows.push([0, i, 1, i]);
  rows.push([1, 0, 1, 0], [1, 1, 1, 1]);
  rows.push([2, 3, 1, 0]);
  for (let i = 0; i < 5; i++) rows.push([3, i, 1, i]);
  const ds = datasetOf(4, 500, rows);
  const split = ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 5 });
  assert.equal(split.method, 'ratio');
  const sizes = (u: number) => [rowOf(split.train, u).length, rowOf(split.validation, u).length, rowOf(split.test, u).length];
  assert.deepEqual(sizes(0), [8, 1, 1]);
  assert.deepEqual(sizes(1), [1, 0, 1]);
  assert.deepEqual(sizes(2), [1, 0, 0]);
  assert.deepEqual(sizes(3), [3, 1, 1]);
  assert.equal(rowOf(split.negatives.validation, 1).length, 0);
  assert.equal(rowOf(split.negatives.test, 1).length, 99);
});

test('ratio split by time puts the latest interactions last', () => {
  const rows: number[][] = [];
  for (let i = 0; i < 10; i++) rows.push([0, i, 1, 100 - i]); // item 0 is the latest
  const split = ratioSplit(datasetOf(1, 200, rows), { ratios: [0.8, 0.1, 0.1], seed: 5, byTime: true });
  assert.deepEqual(rowList(split, 'test', 0), [0]);
  assert.deepEqual(rowList(split, 'validation', 0), [1]);
  assert.throws(() => ratioSplit(datasetOf(1, 5, [[0, 1]], false), { ratios: [0.8, 0.1, 0.1], seed: 1, byTime: true }), /byTime needs timestamps/);
});

test('ratio split is reproducible for a seed and validates ratios', () => {
  const ds = generateSynthetic({ users: 40, items: 100, interactions: 800, seed: 1 });
  assert.deepEqual(ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 2 }), ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 2 }));
  assert.throws(() => ratioSplit(ds, { ratios: [0.8, 0.1], seed: 2 }), /ratios must have 3 entries/);
  assert.throws(() => ratioSplit(ds, { ratios: [0.8, 0.3, 0.1], seed: 2 }), /ratios must sum to 1/);
  assert.throws(() => ratioSplit(ds, { ratios: [0.9, 0.1, 0], seed: 2 }), /ratios must all be positive/);
  assert.throws(() => leaveOneOut(ds, { seed: 2, negatives: -1 }), /negatives must be a non-negative integer/);
});

test('evaluation negatives: never interacted with in the whole data, distinct, fixed for a seed, disjoint from train', () => {
  const ds = generateSynthetic({ users: 80, items: 300, interactions: 4000, seed: 11 });
  const all = buildUserItems(ds.nUsers, ds.interactions.users, ds.interactions.items);
  const split = leaveOneOut(ds, { seed: 21 });
  const again = leaveOneOut(ds, { seed: 21 });
  const other = leaveOneOut(ds, { seed: 22 });
  assert.deepEqual(split.negatives, again.negatives);
  assert.notDeepEqual([...split.negatives.test.indices], [...other.negatives.test.indices]);
  for (const part of ['validation', 'test'] as const) {
    for (let u = 0; u < ds.nUsers; u++) {
      const negatives = rowOf(split.negatives[part], u);
      const available = ds.nItems - rowOf(all, u).length;
      assert.equal(negatives.length, Math.min(99, available));
      assert.equal(new Set(negatives).size, negatives.length);
      for (const item of negatives) {
        assert.equal(hasItem(all, u, item), false, `user ${u} interacted with negative ${item}`);
        assert.equal(hasItem(split.train, u, item), false);
        assert.ok(item >= 0 && item < ds.nItems);
      }
    }
  }
});

test('evaluation negatives: all remaining items when fewer than asked are available', () => {
  const rows: number[][] = [];
  for (let i = 0; i < 15; i++) rows.push([0, i, 1, i]);
  const split = leaveOneOut(datasetOf(1, 20, rows), { seed: 1 });
  assert.deepEqual([...rowOf(split.negatives.test, 0)], [15, 16, 17, 18, 19]);
  const few = leaveOneOut(datasetOf(1, 20, rows), { seed: 1, negatives: 3 });
  assert.equal(rowOf(few.negatives.validation, 0).length, 3);
  assert.ok([...rowOf(few.negatives.validation, 0)].every((item) => item >= 15));
});

test('userSplit: seeded 80/10/10 partition of user ids', () => {
  const parts = userSplit(100, [0.8, 0.1, 0.1], 4);
  assert.deepEqual([parts.train.length, parts.validation.length, parts.test.length], [80, 10, 10]);
  const union = [...parts.train, ...parts.validation, ...parts.test].sort((a, b) => a - b);
  assert.deepEqual(union, Array.from({ length: 100 }, (_, u) => u));
  assert.deepEqual(userSplit(100, [0.8, 0.1, 0.1], 4), parts);
  assert.notDeepEqual(userSplit(100, [0.8, 0.1, 0.1], 5).test, parts.test);
  assert.throws(() => userSplit(10, [0.5, 0.5, 0.5], 1), /ratios must sum to 1/);
  assert.throws(() => userSplit(-1, [0.8, 0.1, 0.1], 1), /nUsers must be a non-negative integer/);
});
