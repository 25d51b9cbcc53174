/**
 * NeuMF's batched path (MLP tower as WebAssembly SIMD matrix products) against the reference path
 * (`pointwise` / `score` example by example): same logits, same gradients and touched rows on a
 * minibatch with repeated users and items and a row count that is not a multiple of the tile,
 * and its own gradients against finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { bceWithLogits } from '../../math/kernels.js';
import { RowSparseGrads } from '../params.js';
import { createModel } from '../registry.js';
import type { ModelConfig, PointwiseLoss, RecModel } from '../types.js';
import { batchedNeumfApplies } from './batched.js';

const config: ModelConfig = { kind: 'neumf', dim: 6, mlpDim: 8, layers: [16, 8], initStd: 0.5 };

function batch(n: number, nUsers: number, nItems: number, seed: number) {
  const rng = new Rng(seed);
  const users = Int32Array.from({ length: n }, () => rng.int(nUsers));
  const items = Int32Array.from({ length: n }, () => rng.int(nItems));
  const labels = Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  return { users, items, labels };
}

const close = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b), `${what}: batched ${a} vs reference ${b}`);

test('batched NeuMF applies to tile-multiple widths only', () => {
  assert.equal(batchedNeumfApplies({ dg: 6, dm: 8, widths: [16, 16, 8] }), true);
  assert.equal(batchedNeumfApplies({ dg: 3, dm: 4, widths: [8, 6, 4, 3] }), false);
  const model = createModel(config, 9, 13, { seed: 1 });
  assert.equal(typeof model.pointwiseBatch, 'function');
  assert.equal(createModel({ ...config, layers: [6, 4] }, 9, 13, { seed: 1 }).pointwiseBatch, undefined);
});

test('batched NeuMF scores equal the reference forward', () => {
  const model = createModel(config, 9, 13, { seed: 2 });
  const items = Int32Array.from({ length: 13 }, (_, i) => 12 - i);
  for (const user of [0, 4, 8]) {
    const out = new Float32Array(items.length);
    model.scoreItems(user, items, out);
    items.forEach((i, k) => close(out[k], model.score(user, i), `score(${user}, ${i})`));
  }
});

for (const loss of ['bce', 'mse'] as PointwiseLoss[]) {
  test(`batched NeuMF ${loss} gradients equal the per-example reference on a minibatch`, () => {
    const nUsers = 9;
    const nItems = 13;
    const a = createModel(config, nUsers, nItems, { seed: 3 });
    const { users, items, labels } = batch(37, nUsers, nItems, 5);
    const scale = 1 / 30;
    const ref = new RowSparseGrads(a.info);
    let refLoss = 0;
    for (let k = 2; k < 32; k++) refLoss += a.pointwise(users[k], items[k], labels[k], loss, scale, ref);
    const got = new RowSparseGrads(a.info);
    const gotLoss = a.pointwiseBatch!(users, items, labels, 2, 32, loss, scale, got);
    close(gotLoss, refLoss, 'loss');
    let nonZero = 0;
    for (const p of a.info) {
      const g = got.values[p.name];
      const r = ref.values[p.name];
      for (let k = 0; k < r.length; k++) {
        close(g[k], r[k], `${p.name}[${k}]`);
        if (r[k] !== 0) nonZero++;
      }
      assert.deepEqual([...got.touchedRows(p.name)].sort((x, y) => x - y), [...ref.touchedRows(p.name)].sort((x, y) => x - y), `${p.name} touched rows`);
    }
    assert.ok(nonZero > 100, 'the check must cover non-zero gradients');
  });
}

test('batched NeuMF BCE gradients match finite differences', () => {
  const model: RecModel = createModel(config, 4, 5, { seed: 7 });
  const { users, items, labels } = batch(6, 4, 5, 9);
  const lossOf = (m: RecModel): number => users.reduce((s, u, k) => s + bceWithLogits(m.score(u, items[k]), labels[k]).loss, 0);
  const grads = new RowSparseGrads(model.info);
  model.pointwiseBatch!(users, items, labels, 0, users.length, 'bce', 1, grads);
  const eps = 1e-3;
  let checked = 0;
  for (const p of model.info) {
    const theta = (p.scope === 'local' ? model.params.local : model.params.global)[p.name];
    const g = grads.values[p.name];
    for (let k = 0; k < theta.length; k++) {
      const orig = theta[k];
      theta[k] = orig + eps;
      const up = lossOf(model);
      theta[k] = orig - eps;
      const down = lossOf(model);
      theta[k] = orig;
      const numeric = (up - down) / (2 * eps);
      assert.ok(Math.abs(numeric - g[k]) <= 2e-3 + 2e-2 * Math.abs(numeric), `${p.name}[${k}]: analytic ${g[k]} vs numeric ${numeric}`);
      if (numeric !== 0) checked++;
    }
  }
  assert.ok(checked > 100, 'some gradients must be non-zero');
});
