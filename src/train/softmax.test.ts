/** Sampled softmax: gradients against finite differences, the grouped example layout, and a fit that lowers the loss. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../models/registry.js';
import { RowSparseGrads } from '../models/params.js';
import { createOptimizer } from '../optim/registry.js';
import { Rng } from '../math/rng.js';
import { softmaxGroup } from './softmax.js';
import { buildEpochExamples, type NegativeSource } from './examples.js';
import { fitEpoch, tablesOf } from './fit.js';
import type { ModelConfig, RecModel } from '../models/types.js';

/** −log softmax of the first score, computed directly. */
function groupLoss(m: RecModel, u: number, items: number[]): number {
  const s = items.map((i) => m.score(u, i));
  return Math.log(s.reduce((a, x) => a + Math.exp(x), 0)) - s[0];
}

const configs: ModelConfig[] = [
  { kind: 'mf', dim: 4, initStd: 0.5 },
  { kind: 'neumf', dim: 3, mlpDim: 4, layers: [6, 4, 3], initStd: 0.5 },
];

for (const config of configs) {
  test(`${config.kind}: sampled softmax gradients match finite differences`, () => {
    const model = createModel(config, 3, 6, { seed: 5 });
    const groups: [number, number[]][] = [[0, [1, 3, 5, 2]], [2, [4, 0, 1, 3]], [1, [5, 2, 0, 4]]];
    const lossOf = (m: RecModel) => groups.reduce((s, [u, items]) => s + groupLoss(m, u, items), 0);
    const grads = new RowSparseGrads(model.info);
    let analyticLoss = 0;
    for (const [u, items] of groups) analyticLoss += softmaxGroup(model, u, Int32Array.from(items), 0, items.length, 1, grads);
    assert.ok(Math.abs(analyticLoss - lossOf(model)) < 1e-5, 'returned loss');
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
        if (Math.abs(numeric) > 1e-6) checked++;
      }
    }
    assert.ok(checked > 10, 'some gradients must be non-zero');
  });
}

/** Negatives: any item outside the user's positives (items 0..9 of 10), uniformly. */
function samplerOf(positives: Map<number, Set<number>>): NegativeSource {
  return {
    nItems: 10,
    sample(user, count, rng, out, offset) {
      for (let k = 0; k < count; k++) {
        let i: number;
        do i = rng.int(10);
        while (positives.get(user)!.has(i));
        out[offset + k] = i;
      }
    },
  };
}

test('softmax examples: groups of the positive then its negatives, shuffled as groups, seeded', () => {
  const pos = [
    { user: 0, items: Int32Array.from([1, 2, 3]) },
    { user: 1, items: Int32Array.from([4, 5]) },
  ];
  const sampler = samplerOf(new Map([[0, new Set([1, 2, 3])], [1, new Set([4, 5])]]));
  const ex = buildEpochExamples(pos, sampler, 'softmax', 3, new Rng(9));
  assert.equal(ex.group, 4);
  assert.equal(ex.length, 5 * 4);
  const seen: string[] = [];
  for (let g = 0; g < 5; g++) {
    const u = ex.users[g * 4];
    assert.equal(ex.labels[g * 4], 1);
    for (let t = 0; t < 4; t++) assert.equal(ex.users[g * 4 + t], u);
    for (let t = 1; t < 4; t++) {
      assert.equal(ex.labels[g * 4 + t], 0);
      assert.ok(!pos[u].items.includes(ex.items[g * 4 + t]), 'a negative is not a positive of its user');
    }
    seen.push(`${u}:${ex.items[g * 4]}`);
  }
  assert.deepEqual(seen.sort(), ['0:1', '0:2', '0:3', '1:4', '1:5']);
  const again = buildEpochExamples(pos, sampler, 'softmax', 3, new Rng(9));
  assert.deepEqual([...again.items], [...ex.items]);
});

test('softmax fitEpoch: the loss falls over a few epochs and positives rise above negatives', () => {
  const model = createModel({ kind: 'mf', dim: 8, initStd: 0.1 }, 2, 10, { seed: 1 });
  const pos = [
    { user: 0, items: Int32Array.from([1, 2, 3]) },
    { user: 1, items: Int32Array.from([6, 7]) },
  ];
  const sampler = samplerOf(new Map([[0, new Set([1, 2, 3])], [1, new Set([6, 7])]]));
  const grads = new RowSparseGrads(model.info);
  const opt = createOptimizer({ kind: 'adam', lr: 0.05 });
  const tables = tablesOf(model);
  const names = model.info.map((p) => p.name);
  const rng = new Rng(2);
  const losses: number[] = [];
  for (let e = 0; e < 30; e++) losses.push(fitEpoch(model, buildEpochExamples(pos, sampler, 'softmax', 4, rng), 'softmax', 2, grads, opt, tables, names));
  assert.ok(losses[29] < losses[0] * 0.5, `loss ${losses[0]} → ${losses[29]}`);
  assert.ok(model.score(0, 1) > model.score(0, 6) && model.score(1, 7) > model.score(1, 2));
});
