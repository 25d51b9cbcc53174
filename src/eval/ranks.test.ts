/** Tests of tie-fair ranking (rank = #greater + ½·#equal) on hand-made score lists. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ranksAmong, ranksWithin } from './ranks.js';

function among(targets: number[], others: number[]): number[] {
  const out = new Float64Array(targets.length);
  ranksAmong(Float32Array.from(targets), Float32Array.from(others), out);
  return [...out];
}

test('strictly greater count, no ties', () => {
  assert.deepEqual(among([0.5], [0.9, 0.1, 0.7, 0.2]), [2]);
  assert.deepEqual(among([1], [0.9, 0.1]), [0]);
  assert.deepEqual(among([0], [0.9, 0.1]), [2]);
});

test('tie with 2 others and 1 strictly greater gives rank 2', () => {
  assert.deepEqual(among([0.5], [0.9, 0.5, 0.5, 0.1]), [2]);
});

test('constant scores among 99 negatives give rank 49.5', () => {
  assert.deepEqual(among([1], new Array(99).fill(1)), [49.5]);
});

test('several targets are ranked independently, in their own order', () => {
  // 0.3: greater 0.9, 0.5, 0.5 → 3;  0.5: greater 0.9 + two ties → 2;  0.95: 0;  0.5 again → 2
  assert.deepEqual(among([0.3, 0.5, 0.95, 0.5], [0.9, 0.5, 0.5, 0.1]), [3, 2, 0, 2]);
});

test('ranksWithin compares targets with each other but not with themselves', () => {
  const out = new Float64Array(2);
  // targets 5, 5; others 6, 1 → each: greater {6} = 1, equal {other target} = 1 → 1.5
  ranksWithin(Float32Array.of(5, 5, 6, 1), 2, out);
  assert.deepEqual([...out], [1.5, 1.5]);
  ranksWithin(Float32Array.of(7, 5, 6, 1), 2, out);
  assert.deepEqual([...out], [0, 2]);
});

test('NaN scores are rejected', () => {
  assert.throws(() => among([NaN], [1, 2]), /NaN/);
  assert.throws(() => among([1], [NaN, 2]), /NaN/);
});
