import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetBuilder } from './builder.js';

test('remaps raw ids to dense ids in order of first appearance, both directions', () => {
  const b = new DatasetBuilder('t');
  b.add('u9', 'i5');
  b.add('u2', 'i5');
  b.add('u9', 'i1');
  const ds = b.build();
  assert.deepEqual(ds.userIds, ['u9', 'u2']);
  assert.deepEqual(ds.itemIds, ['i5', 'i1']);
  assert.equal(ds.userIndex.get('u2'), 1);
  assert.equal(ds.itemIndex.get('i1'), 1);
  assert.deepEqual([...ds.interactions.users], [0, 1, 0]);
  assert.deepEqual([...ds.interactions.items], [0, 0, 1]);
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

test('without timestamps the last duplicate wins', () => {
  const b = new DatasetBuilder('t');
  b.add('a', 'x', 1);
  b.add('a', 'x', 3);
  assert.deepEqual([...b.build().interactions.ratings!], [3]);
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
