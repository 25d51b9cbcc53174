import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetBuilder } from './builder.js';

test('remaps raw ids to dense ids in sorted raw-id order, both directions; interactions by (user, item)', () => {
  const b = new DatasetBuilder('t');
  b.add('u9', 'i5');
  b.add('u2', 'i5');
  b.add('u9', 'i1');
  const ds = b.build();
  assert.deepEqual(ds.userIds, ['u2', 'u9']);
  assert.deepEqual(ds.itemIds, ['i1', 'i5']);
  assert.equal(ds.userIndex.get('u9'), 1);
  assert.equal(ds.itemIndex.get('i5'), 1);
  assert.deepEqual([...ds.interactions.users], [0, 1, 1]);
  assert.deepEqual([...ds.interactions.items], [1, 0, 1]);
  assert.equal(ds.interactions.ratings, null);
  assert.equal(ds.interactions.timestamps, null);
  assert.equal(ds.nUsers, 2);
  assert.equal(ds.nItems, 2);
  assert.equal(ds.name, 't');
});

test('merges duplicates keeping the latest timestamp and its rating', () => {
  const b = new DatasetBuilder('t');
  b.add('a', 'x', 2, 200);
  b.add('a', 'x', 5, 100); // older: ignored
  b.add('a', 'y', 1, 50);
  b.add('a', 'y', 4, 60); // newer: wins
  const ds = b.build();
  assert.equal(ds.interactions.users.length, 2);
  assert.deepEqual([...ds.interactions.ratings!], [2, 4]);
  assert.deepEqual([...ds.interactions.timestamps!], [200, 60]);
});

test('without timestamps, or on a timestamp tie, the larger rating wins whatever the row order', () => {
  for (const ratings of [[1, 3], [3, 1]]) {
    const b = new DatasetBuilder('t');
    const c = new DatasetBuilder('t');
    for (const r of ratings) {
      b.add('a', 'x', r);
      c.add('a', 'x', r, 7);
    }
    assert.deepEqual([...b.build().interactions.ratings!], [3]);
    assert.deepEqual([...c.build().interactions.ratings!], [3]);
  }
});

test('ids sort numerically when every id is numeric, else by code units', () => {
  const b = new DatasetBuilder('t');
  for (const [u, i] of [['10', 'b'], ['9', 'B'], ['100', 'a10'], ['9', 'a9'], ['09', 'a10']]) b.add(u, i);
  const ds = b.build();
  assert.deepEqual(ds.userIds, ['09', '9', '10', '100']);
  assert.deepEqual(ds.itemIds, ['B', 'a10', 'a9', 'b']);
});

test('rating threshold keeps ratings >= threshold and drops users/items left empty', () => {
  const b = new DatasetBuilder('t', { ratingThreshold: 4 });
  b.add('a', 'x', 5);
  b.add('b', 'y', 2);
  b.add('c', 'y', 4);
  b.add('c', 'z', 3);
  const ds = b.build();
  assert.deepEqual(ds.userIds, ['a', 'c']);
  assert.deepEqual(ds.itemIds, ['x', 'y']);
  assert.deepEqual([...ds.interactions.users], [0, 1]);
  assert.deepEqual([...ds.interactions.items], [0, 1]);
  assert.equal(ds.userIndex.get('c'), 1);
});

test('rating threshold is applied after merging duplicates', () => {
  const b = new DatasetBuilder('t', { ratingThreshold: 4 });
  b.add('a', 'x', 5, 1);
  b.add('a', 'x', 2, 2);
  b.add('a', 'y', 4, 1);
  assert.deepEqual(b.build().itemIds, ['y']);
});

test('rating threshold without ratings is an error', () => {
  const b = new DatasetBuilder('t', { ratingThreshold: 4 });
  b.add('a', 'x');
  assert.throws(() => b.build(), /a rating threshold \(4\) was given but the data has no ratings/);
});

test('rows must agree on carrying ratings and timestamps', () => {
  const b = new DatasetBuilder('t');
  b.add('a', 'x', 3, 10);
  assert.throws(() => b.add('a', 'y', 3), /row 2 lacks a timestamp but earlier rows have one/);
});

test('grows past its initial capacity', () => {
  const b = new DatasetBuilder('t');
  for (let k = 0; k < 5000; k++) b.add(String(k % 50), String(k), k % 5, k);
  const ds = b.build();
  assert.equal(ds.interactions.users.length, 5000);
  assert.equal(ds.interactions.timestamps![4999], 4999);
});
