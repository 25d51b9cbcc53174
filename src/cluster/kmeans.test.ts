/** k-means recovers planted clusters, is deterministic per seed, normalises centroids on request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { kmeans } from './kmeans.js';

function planted(k: number, perCluster: number, dim: number, seed: number): { x: Float32Array; truth: Int32Array } {
  const rng = new Rng(seed);
  const centres = Float32Array.from({ length: k * dim }, () => rng.normal() * 10);
  const n = k * perCluster;
  const x = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const c = r % k;
    truth[r] = c;
    for (let f = 0; f < dim; f++) x[r * dim + f] = centres[c * dim + f] + rng.normal() * 0.3;
  }
  return { x, truth };
}

test('k-means++ and Lloyd iterations recover planted clusters exactly', () => {
  const { x, truth } = planted(6, 40, 4, 7);
  const { assignment, centroids } = kmeans(x, 4, { k: 6, iterations: 10, seed: 1 });
  // same partition up to relabelling: a bijection between found and true clusters
  const map = new Map<number, number>();
  for (let r = 0; r < truth.length; r++) {
    const seen = map.get(assignment[r]);
    if (seen === undefined) map.set(assignment[r], truth[r]);
    else assert.equal(seen, truth[r], `row ${r} split from its planted cluster`);
  }
  assert.equal(new Set(map.values()).size, 6);
  assert.equal(centroids.length, 6 * 4);
});

test('same seed, same clustering; normalised centroids have unit norm', () => {
  const { x } = planted(5, 20, 3, 2);
  const a = kmeans(x, 3, { k: 8, iterations: 5, seed: 4, normalizeCentroids: true });
  const b = kmeans(x, 3, { k: 8, iterations: 5, seed: 4, normalizeCentroids: true });
  assert.deepEqual(a.assignment, b.assignment);
  assert.deepEqual(a.centroids, b.centroids);
  for (let c = 0; c < 8; c++) {
    const norm = Math.hypot(...a.centroids.subarray(c * 3, c * 3 + 3));
    assert.ok(Math.abs(norm - 1) < 1e-5);
  }
});

test('k-means rejects k outside [1, rows]', () => {
  assert.throws(() => kmeans(new Float32Array(6), 2, { k: 4, seed: 0 }), /k must be an integer in \[1, 3\]/);
});
