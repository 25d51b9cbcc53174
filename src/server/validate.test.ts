import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelParamInfo } from '../models/registry.js';
import { validateUpdate } from './validate.js';

const info = modelParamInfo({ kind: 'mf', dim: 2 }, 0, 10).filter((p) => p.scope === 'global');
const base = () => ({
  round: 1,
  weight: 1,
  loss: 0,
  rows: Int32Array.from([1, 4]),
  itemTables: { itemEmb: Float32Array.from([3, 0, 0, 0]), itemBias: Float32Array.from([0, 4]) },
  denseTables: { globalBias: Float32Array.from([0]) },
});

test('clip mode scales an update down to the norm bound (norm 5 → 1)', () => {
  const r = validateUpdate(base(), info, { nItems: 10, maxWeight: 100, normBound: 1, normMode: 'clip' });
  assert.equal(r.clipped, true);
  assert.equal(r.norm, 5);
  assert.ok(Math.abs(r.update.itemTables.itemEmb[0] - 0.6) < 1e-6);
  assert.ok(Math.abs(r.update.itemTables.itemBias[1] - 0.8) < 1e-6);
});

test('within the bound nothing is changed; unsorted rows are refused', () => {
  const r = validateUpdate(base(), info, { nItems: 10, maxWeight: 100, normBound: 5, normMode: 'reject' });
  assert.equal(r.clipped, false);
  assert.throws(() => validateUpdate({ ...base(), rows: Int32Array.from([4, 1]) }, info, { nItems: 10, maxWeight: 100, normMode: 'reject' }), /strictly ascending/);
  assert.throws(() => validateUpdate({ ...base(), denseTables: {} }, info, { nItems: 10, maxWeight: 100, normMode: 'reject' }), /missing dense table 'globalBias'/);
});
