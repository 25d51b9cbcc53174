/** Finite-difference checks of every analytic gradient of MF and NeuMF under BCE, BPR and MSE. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from './registry.js';
import { RowSparseGrads } from './params.js';
import { bceWithLogits, bpr } from '../math/kernels.js';
import type { ModelConfig, RecModel } from './types.js';

type LossFn = (m: RecModel) => number;

function checkGradients(model: RecModel, lossFn: LossFn, backward: (m: RecModel, g: RowSparseGrads) => void): void {
  const grads = new RowSparseGrads(model.info);
  backward(model, grads);
  const eps = 1e-3;
  let checked = 0;
  for (const p of model.info) {
    const theta = (p.scope === 'local' ? model.params.local : model.params.global)[p.name];
    const g = grads.values[p.name];
    for (let k = 0; k < theta.length; k++) {
      const orig = theta[k];
      theta[k] = orig + eps;
      const up = lossFn(model);
      theta[k] = orig - eps;
      const down = lossFn(model);
      theta[k] = orig;
      const numeric = (up - down) / (2 * eps);
      const tol = 2e-3 + 2e-2 * Math.abs(numeric);
      assert.ok(Math.abs(numeric - g[k]) <= tol, `${p.name}[${k}]: analytic ${g[k]} vs numeric ${numeric}`);
      if (numeric !== 0) checked++;
    }
  }
  assert.ok(checked > 10, 'some gradients must be non-zero');
}

const configs: ModelConfig[] = [
  { kind: 'mf', dim: 4, initStd: 0.5 },
  { kind: 'neumf', dim: 3, mlpDim: 4, layers: [6, 4, 3], initStd: 0.5 },
];

for (const config of configs) {
  test(`${config.kind}: BCE gradients match finite differences`, () => {
    const model = createModel(config, 3, 5, { seed: 7 });
    const batch = [[0, 1, 1], [0, 3, 0], [2, 4, 1], [1, 1, 0]] as const;
    const lossFn: LossFn = (m) => batch.reduce((s, [u, i, y]) => s + bceWithLogits(m.score(u, i), y).loss, 0);
    checkGradients(model, lossFn, (m, g) => {
      for (const [u, i, y] of batch) m.backward(u, i, bceWithLogits(m.score(u, i), y).grad, g);
    });
  });

  test(`${config.kind}: BPR gradients match finite differences`, () => {
    const model = createModel(config, 3, 5, { seed: 11 });
    const triples = [[0, 1, 2], [1, 4, 0], [2, 3, 1]] as const;
    const lossFn: LossFn = (m) => triples.reduce((s, [u, i, j]) => s + bpr(m.score(u, i) - m.score(u, j)).loss, 0);
    checkGradients(model, lossFn, (m, g) => {
      for (const [u, i, j] of triples) {
        const r = bpr(m.score(u, i) - m.score(u, j));
        m.backward(u, i, r.grad, g);
        m.backward(u, j, -r.grad, g);
      }
    });
  });
}

test('mf: MSE gradients match finite differences', () => {
  const model = createModel({ kind: 'mf', dim: 4, initStd: 0.5 }, 2, 3, { seed: 3 });
  const ratings = [[0, 0, 4], [1, 2, 2], [0, 1, 5]] as const;
  const lossFn: LossFn = (m) => ratings.reduce((s, [u, i, y]) => s + (m.score(u, i) - y) ** 2, 0);
  checkGradients(model, lossFn, (m, g) => {
    for (const [u, i, y] of ratings) m.backward(u, i, 2 * (m.score(u, i) - y), g);
  });
});

test('backward marks exactly the rows it touched', () => {
  const model = createModel({ kind: 'mf', dim: 2 }, 4, 6, { seed: 1 });
  const grads = new RowSparseGrads(model.info);
  model.backward(2, 5, 1, grads);
  model.backward(2, 1, 1, grads);
  assert.deepEqual([...grads.touchedRows('itemEmb')], [5, 1]);
  assert.deepEqual([...grads.touchedRows('userEmb')], [2]);
  grads.reset();
  assert.equal(grads.touchedRows('itemEmb').length, 0);
  assert.ok(grads.values.itemEmb.every((v) => v === 0));
});

test('scoreItems agrees with score', () => {
  for (const config of configs) {
    const model = createModel(config, 3, 5, { seed: 5 });
    const items = Int32Array.from([4, 0, 2]);
    const out = new Float32Array(3);
    model.scoreItems(1, items, out);
    items.forEach((i, k) => assert.ok(Math.abs(out[k] - model.score(1, i)) < 1e-5));
  }
});

test('pointwise (fused forward + backward) equals score + backward for BCE and MSE', () => {
  for (const config of configs) {
    for (const loss of ['bce', 'mse'] as const) {
      const model = createModel(config, 3, 5, { seed: 13 });
      const fused = new RowSparseGrads(model.info);
      const split = new RowSparseGrads(model.info);
      const label = loss === 'bce' ? 1 : 4;
      const value = model.pointwise(2, 3, label, loss, 0.5, fused);
      const s = model.score(2, 3);
      const expected = loss === 'bce' ? bceWithLogits(s, label) : { loss: (s - label) ** 2, grad: 2 * (s - label) };
      model.backward(2, 3, 0.5 * expected.grad, split);
      assert.ok(Math.abs(value - expected.loss) < 1e-6);
      for (const p of model.info) {
        const a = fused.values[p.name];
        const b = split.values[p.name];
        a.forEach((v, k) => assert.ok(Math.abs(v - b[k]) < 1e-6, `${config.kind} ${loss} ${p.name}[${k}]`));
      }
    }
  }
});
