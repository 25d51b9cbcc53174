/** The server's float64 row sums in WebAssembly SIMD against the plain loop: bit-identical. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { RowSums } from './sum-kernels.js';
import { UpdateAccumulator } from '../../federated/aggregate.js';
import { mfParamInfo } from '../../models/mf/mf.js';
import { boundUpdate, updateNorm } from '../../federated/bounds.js';
import { rowSquares, scaleRows } from '../../federated/row-bound.js';

test('RowSums adds weighted float32 rows into float64 sums exactly as the JavaScript loop', () => {
  const rng = new Rng(4);
  const [nRows, cols] = [50, 6];
  const sums = new RowSums([{ name: 't', rows: nRows, cols }]);
  const expected = new Float64Array(nRows * cols);
  for (let c = 0; c < 20; c++) {
    const rows = Int32Array.from(new Set(Array.from({ length: 30 }, () => rng.int(nRows)))).sort();
    const delta = Float32Array.from({ length: rows.length * cols }, () => rng.normal() * 1e-3);
    const w = 1 + rng.int(300);
    assert.equal(sums.addRows('t', rows, delta, w), true);
    rows.forEach((r, k) => {
      for (let f = 0; f < cols; f++) expected[r * cols + f] += w * delta[k * cols + f];
    });
  }
  assert.deepEqual(sums.sums('t'), expected);
  assert.equal(sums.addRows('t', Int32Array.of(3, nRows), new Float32Array(2 * cols), 1), false, 'a row out of range is left to the caller');
  assert.equal(sums.addRows('t', Int32Array.of(3), new Float32Array(cols - 2), 1), false, 'deltas that do not match the rows');
  assert.deepEqual(sums.sums('t'), expected, 'a refused update adds nothing');
});

test('UpdateAccumulator partial sums are the same with the SIMD item sums', () => {
  const info = mfParamInfo(4, 30, 8);
  const acc = new UpdateAccumulator(info, 30);
  const rng = new Rng(9);
  const expected = new Float64Array(30 * 8);
  for (let c = 0; c < 5; c++) {
    const rows = Int32Array.of(c, 7 + c, 20 + c);
    const itemEmb = Float32Array.from({ length: 24 }, () => rng.normal());
    acc.add({ round: 1, weight: 3, rows, itemTables: { itemEmb, itemBias: new Float32Array(3) }, denseTables: { globalBias: new Float32Array(1) }, loss: 0 });
    rows.forEach((r, k) => {
      for (let f = 0; f < 8; f++) expected[r * 8 + f] += 3 * itemEmb[k * 8 + f];
    });
  }
  assert.deepEqual(acc.partial().sums.itemEmb, expected);
});

test('UpdateAccumulator.addBounded folds exactly what add(boundUpdate(…)) folds: SIMD norm, clip as a scale, bit for bit', () => {
  const info = mfParamInfo(4, 40, 16);
  const rng = new Rng(13);
  const fused = new UpdateAccumulator(info, 40);
  const reference = new UpdateAccumulator(info, 40);
  let clipped = 0;
  for (let c = 0; c < 30; c++) {
    const rows = Int32Array.from(new Set(Array.from({ length: 12 }, () => rng.int(40)))).sort();
    const size = c % 3 === 0 ? 3 : 0.1;
    const itemEmb = Float32Array.from({ length: rows.length * 16 }, () => rng.normal() * size);
    const itemBias = Float32Array.from({ length: rows.length }, () => rng.normal() * size);
    if (c === 4) itemEmb[5] = Number.NaN;
    if (c === 5) itemBias[0] = Number.POSITIVE_INFINITY;
    const update = { round: 1, weight: 1 + rng.int(90), rows, itemTables: { itemEmb, itemBias }, denseTables: { globalBias: Float32Array.of(rng.normal()) }, loss: c === 6 ? 1e9 : rng.next() };
    const rowBounds = c % 5 === 1 ? { rowShare: 0.2, spread: 2 } : c % 5 === 2 ? { rowShare: 0.1 } : c % 5 === 3 ? { spread: 1.5 } : {};
    const bounds = { weighting: c % 2 === 0 ? ('examples' as const) : ('uniform' as const), clipNorm: 2.5, weightCap: 50, ...rowBounds };
    const folded = fused.addBounded(update, bounds);
    const bounded = boundUpdate(update, bounds);
    assert.equal(folded === null, bounded === null, `update ${c}: refused alike`);
    if (!bounded || !folded) continue;
    assert.equal(folded.norm, updateNorm(update));
    assert.equal(folded.weight, bounded.weight);
    if (folded.norm > 2.5) clipped++;
    reference.add(bounded);
  }
  assert.ok(clipped >= 5, `${clipped} clipped updates`);
  const [a, b] = [fused.partial(), reference.partial()];
  for (const name of Object.keys(b.sums)) assert.deepEqual(a.sums[name], b.sums[name], name);
  assert.deepEqual(a.rowWeight, b.rowWeight);
  assert.equal(a.totalWeight, b.totalWeight);
  assert.equal(a.lossSum, b.lossSum);
});

test('RowSums row squares and per-row scaled sums match row-bound.ts rowSquares / scaleRows bit for bit', () => {
  const rng = new Rng(21);
  const [nRows, cols] = [60, 10];
  const sums = new RowSums([{ name: 't', rows: nRows, cols }]);
  const expected = new Float64Array(nRows * cols);
  for (let c = 0; c < 10; c++) {
    const rows = Int32Array.from(new Set(Array.from({ length: 25 }, () => rng.int(nRows)))).sort();
    const t = Float32Array.from({ length: rows.length * cols }, () => rng.normal() * 0.3);
    const update = { round: 1, weight: 1, rows, itemTables: { t }, denseTables: {}, loss: 0 };
    const simdSq = new Float64Array(rows.length).fill(0.25);
    assert.equal(sums.rowSquares(t, rows.length, simdSq), true);
    // the kernel adds to what `out` holds, as rowSquares adds table after table
    assert.deepEqual(simdSq, rowSquares(update).map((v) => 0.25 + v));
    const scales = Float64Array.from(rows, () => 0.1 + rng.next());
    const w = 1 + rng.int(5);
    assert.equal(sums.addRowsRowScaled('t', rows, t, w, scales), true);
    const scaled = scaleRows(update, { rows: scales, dense: 1 }).itemTables.t;
    rows.forEach((r, k) => {
      for (let f = 0; f < cols; f++) expected[r * cols + f] += w * scaled[k * cols + f];
    });
  }
  assert.deepEqual(sums.sums('t'), expected);
  assert.equal(sums.rowSquares(new Float32Array(9), 3, new Float64Array(3)), false, 'an odd width is left to the caller');
  assert.equal(sums.addRowsRowScaled('t', Int32Array.of(1, 2), new Float32Array(2 * cols), 1, Float64Array.of(1)), false, 'one scale per row');
});
