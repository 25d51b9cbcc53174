import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundRows, rowNorms } from './row-bound.js';
import { boundUpdate, updateNorm } from './bounds.js';
import type { GlobalUpdate } from './types.js';
import { MF_ROBUST_DEFAULTS, parseTrainConfig } from '../config/config.js';

/** An update over `rows` (dim 2 + a bias per row), row k holding `values[k]` in each of its 3 values. */
const update = (values: number[], rows = values.map((_, k) => k)): GlobalUpdate => ({
  round: 1,
  weight: 1,
  loss: 0.5,
  rows: Int32Array.from(rows),
  itemTables: { itemEmb: Float32Array.from(values.flatMap((v) => [v, v])), itemBias: Float32Array.from(values) },
  denseTables: { globalBias: Float32Array.from([0.5]) },
});
const near = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} ≠ ${b}`);
const l21 = (u: GlobalUpdate) => rowNorms(u).reduce((a, b) => a + b, 0);

test('row norms span every item table of a row', () => {
  const n = rowNorms(update([1, 2]));
  near(n[0], Math.sqrt(3));
  near(n[1], 2 * Math.sqrt(3));
});

test('per-row bound: a targeted push concentrated on one row is cut to its share; other rows untouched', () => {
  const u = update([0.01, 0.01, 1]);
  const b = boundRows(u, 2, { rowShare: 0.1 });
  const n = rowNorms(b);
  near(n[2], 0.2);
  near(n[0], rowNorms(u)[0]);
  assert.deepEqual(b.denseTables, u.denseTables);
});

test('spread bound: an update spread evenly over many rows is scaled to the L2,1 budget, a row-sparse one is not', () => {
  const spread = update(Array.from({ length: 400 }, () => 0.05)); // L2,1 = 400·0.0866 = 34.6
  const sparse = update([0.5, 0.3, 0.01, 0.01, 0.01]);
  const bs = boundRows(spread, 2, { spread: 5 });
  near(l21(bs), 10, 1e-3);
  near(updateNorm(bs) / updateNorm(spread), 10 / l21(spread), 1e-3); // the whole update scaled, dense tables too
  near(bs.denseTables.globalBias[0], 0.5 * (10 / l21(spread)), 1e-5);
  assert.equal(boundRows(sparse, 2, { spread: 5 }), sparse);
  // no L2 bound or no row bound: unchanged
  assert.equal(boundRows(spread, 0, { spread: 5 }), spread);
  assert.equal(boundRows(spread, 2, {}), spread);
});

test('boundUpdate applies the row bounds after the L2 clip, relative to it; none without an L2 bound', () => {
  const u = update([3, 0.01, 0.01]);
  const b = boundUpdate(u, { weighting: 'uniform', clipNorm: 2, rowShare: 0.25 }) as GlobalUpdate;
  near(rowNorms(b)[0], 0.5);
  assert.ok(updateNorm(b) <= 2 + 1e-6);
  const none = boundUpdate(u, { weighting: 'uniform', clipNorm: 0, rowShare: 0.25 }) as GlobalUpdate;
  near(rowNorms(none)[0], rowNorms(u)[0]);
});

test('defaults: federated MF under FedAvg/FedProx centres and bounds rows; other models, central runs and DP do not; both settable', () => {
  const mf = parseTrainConfig({});
  assert.deepEqual([mf.centerItems, mf.rowShare, mf.rowSpread], [true, MF_ROBUST_DEFAULTS.rowShare, 0]);
  assert.deepEqual([parseTrainConfig({ algorithm: 'fedprox' }).centerItems, parseTrainConfig({ algorithm: 'fedprox' }).rowShare], [true, MF_ROBUST_DEFAULTS.rowShare]);
  for (const raw of [{ model: 'neumf' }, { mode: 'central' }, { model: 'lightgcn' }, { algorithm: 'fedrecon' }, { dpClip: 1 }]) {
    const c = parseTrainConfig(raw);
    assert.notEqual(c.centerItems, true, JSON.stringify(raw));
    assert.equal(c.rowShare, 0, JSON.stringify(raw));
  }
  const off = parseTrainConfig({ rowShare: 0, centerItems: false });
  assert.deepEqual([off.rowShare, off.centerItems], [0, false]);
  const on = parseTrainConfig({ rowShare: 0.3, rowSpread: 6, centerItems: true });
  assert.deepEqual([on.rowShare, on.rowSpread, on.centerItems], [0.3, 6, true]);
  assert.throws(() => parseTrainConfig({ rowShare: -1 }));
  assert.throws(() => parseTrainConfig({ model: 'neumf', centerItems: true }), /centerItems needs model 'mf'/);
});
