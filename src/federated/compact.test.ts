import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { RowIndex, toCompact, uniqueSorted } from './compact.js';

test('RowIndex: the same sorted rows and compact indices as uniqueSorted + toCompact', () => {
  const rng = new Rng(3);
  const lists = [0, 1, 2].map(() => Int32Array.from({ length: 200 }, () => rng.int(500)));
  const index = new RowIndex(lists, 500);
  const rows = uniqueSorted(lists);
  assert.deepEqual(index.rows, rows);
  for (const list of lists) assert.deepEqual(index.toCompact(list), toCompact(list, rows));
});

test('RowIndex: items outside the catalogue or not among the rows are errors', () => {
  assert.throws(() => new RowIndex([Int32Array.of(1, 7)], 5), /item 7 outside \[0, 5\)/);
  const index = new RowIndex([Int32Array.of(4, 1, 4)], 5);
  assert.deepEqual(index.rows, Int32Array.of(1, 4));
  assert.throws(() => index.toCompact(Int32Array.of(2)), /item 2 is not among the client's rows/);
  assert.throws(() => index.toCompact(Int32Array.of(9)), /item 9 is not among the client's rows/);
});
