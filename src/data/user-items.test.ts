import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUserItems, countPerUser, hasItem, rowOf } from './user-items.js';

test('buildUserItems sorts each row by item and keeps values aligned', () => {
  const users = Int32Array.from([1, 0, 1, 1, 0]);
  const items = Int32Array.from([7, 3, 2, 5, 1]);
  const values = Float32Array.from([1.7, 0.3, 1.2, 1.5, 0.1]);
  const ui = buildUserItems(3, users, items, values);
  assert.deepEqual([...ui.indptr], [0, 2, 5, 5]);
  assert.deepEqual([...rowOf(ui, 0)], [1, 3]);
  assert.deepEqual([...rowOf(ui, 1)], [2, 5, 7]);
  assert.deepEqual([...rowOf(ui, 2)], []);
  assert.deepEqual([...ui.values!].map((v) => Math.round(v * 10) / 10), [0.1, 0.3, 1.2, 1.5, 1.7]);
  assert.deepEqual([...countPerUser(ui)], [2, 3, 0]);
});

test('buildUserItems without values gives null values', () => {
  const ui = buildUserItems(1, Int32Array.from([0]), Int32Array.from([4]));
  assert.equal(ui.values, null);
});

test('hasItem finds members by binary search and rejects others', () => {
  const ui = buildUserItems(2, Int32Array.from([0, 0, 0, 1]), Int32Array.from([9, 2, 5, 2]));
  for (const item of [2, 5, 9]) assert.equal(hasItem(ui, 0, item), true);
  for (const item of [0, 1, 3, 6, 10]) assert.equal(hasItem(ui, 0, item), false);
  assert.equal(hasItem(ui, 1, 2), true);
  assert.equal(hasItem(ui, 1, 5), false);
});

test('rowOf is a view into indices', () => {
  const ui = buildUserItems(1, Int32Array.from([0, 0]), Int32Array.from([1, 0]));
  assert.equal(rowOf(ui, 0).buffer, ui.indices.buffer);
});

test('buildUserItems rejects users outside range and mismatched lengths', () => {
  assert.throws(() => buildUserItems(1, Int32Array.from([1]), Int32Array.from([0])), /user 1 outside \[0, 1\)/);
  assert.throws(() => buildUserItems(1, Int32Array.from([0]), Int32Array.from([0, 1])), /1 users but 2 items/);
});
