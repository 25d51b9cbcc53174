/**
 * The text-graph head as matrix products over the minibatch (batched-head.ts, `pointwiseBatch`)
 * against the per-example reference path (`pointwise` + `endBatch`): same loss, gradients and
 * touched rows on minibatches with several users, repeated items and row counts that are not a
 * multiple of the kernels' tile, to float32 summation order (whole client rounds:
 * federated/text-graph-batched.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { initParams, RowSparseGrads } from '../params.js';
import { batchedHeadApplies } from './batched-head.js';
import { initJointLayer, recentItemsOf, TextGraphModel, textGraphParamInfo, textInputs, type TextGraphConfig } from './model.js';

/** |batched − reference| ≤ ABS + REL·|reference|: float32 sums in another order. */
const ABS = 2e-6;
const REL = 1e-4;
const close = (got: number, ref: number, what: string): void =>
  assert.ok(Math.abs(got - ref) <= ABS + REL * Math.abs(ref), `${what}: batched ${got} vs reference ${ref}`);

test('batched text-graph head applies to widths that are multiples of 8 with a hidden layer', () => {
  assert.equal(batchedHeadApplies(32, [32, 16, 8]), true);
  assert.equal(batchedHeadApplies(8, [8]), true);
  assert.equal(batchedHeadApplies(6, [16, 8]), false);
  assert.equal(batchedHeadApplies(8, [16, 4]), false);
  assert.equal(batchedHeadApplies(8, []), false);
});

const nUsers = 3;
const nRows = 11;

function setup(config: TextGraphConfig, batched: boolean) {
  const rng = new Rng(5);
  const params = initParams(textGraphParamInfo(config, nUsers, nRows), 0.5, rng);
  for (const t of Object.values(params.local)) for (let k = 0; k < t.length; k++) t[k] = rng.normal() * 0.3;
  for (const [name, t] of Object.entries(params.global)) if (name.endsWith('.b')) for (let k = 0; k < t.length; k++) t[k] = rng.normal() * 0.3;
  const texts = Float32Array.from({ length: nUsers * config.textDim }, () => rng.normal());
  const target = Float32Array.from({ length: nRows * config.dim }, () => rng.normal() * 0.5);
  const recent = config.recentItems ? recentItemsOf([Int32Array.of(0, 7), Int32Array.of(3), Int32Array.of()]) : null;
  return new TextGraphModel(config, nUsers, nRows, params, textInputs(config, texts, initJointLayer(config, rng)), { target }, recent, { batched });
}

const shapes: { name: string; config: TextGraphConfig }[] = [
  { name: 'head [16, 8], dot, recent items', config: { textDim: 5, dim: 8, layers: [16, 8], lambda: 0.7, dot: true, recentItems: 2 } },
  { name: 'head [8], no dot', config: { textDim: 4, dim: 16, layers: [8], lambda: 0.3 } },
  { name: 'head [8], dot, recent items', config: { textDim: 4, dim: 8, layers: [8], lambda: 0.3, dot: true, recentItems: 2 } },
  { name: 'head [32, 16, 8], dot', config: { textDim: 7, dim: 8, layers: [32, 16, 8], lambda: 0, dot: true } },
];

for (const { name, config } of shapes) {
  test(`batched text-graph head (${name}): loss, gradients and touched rows equal the per-example path`, () => {
    const model = setup(config, true);
    assert.equal(typeof model.pointwiseBatch, 'function');
    const rng = new Rng(9);
    const n = 23;
    const users0 = Int32Array.from({ length: n }, () => rng.int(nUsers));
    const items = Int32Array.from({ length: n }, () => rng.int(nRows));
    const labels = Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const grouped = users0.slice().sort(); // runs of rows of one user, as a client holding few users trains
    // batches [1, 20) (19 rows: not a multiple of 4; runs of one row), [20, 23) and [0, 1); then all
    // 23 rows grouped by user (three runs of several rows)
    for (const [start, end, byUser] of [[1, 20, 0], [20, 23, 0], [0, 1, 0], [0, 23, 1]]) {
      const users = byUser ? grouped : users0;
      const scale = 1 / (end - start);
      const ref = new RowSparseGrads(model.info);
      let refLoss = 0;
      for (let k = start; k < end; k++) refLoss += model.pointwise(users[k], items[k], labels[k], 'bce', scale, ref);
      refLoss += model.endBatch(ref);
      const got = new RowSparseGrads(model.info);
      const gotLoss = model.pointwiseBatch!(users, items, labels, start, end, 'bce', scale, got) + model.endBatch(got);
      close(gotLoss, refLoss, 'loss');
      let nonZero = 0;
      for (const p of model.info) {
        const g = got.values[p.name];
        const r = ref.values[p.name];
        for (let k = 0; k < r.length; k++) {
          close(g[k], r[k], `[${start}, ${end}) ${p.name}[${k}]`);
          if (r[k] !== 0) nonZero++;
        }
        const sorted = (a: Int32Array) => [...a].sort((x, y) => x - y);
        assert.deepEqual(sorted(got.touchedRows(p.name)), sorted(ref.touchedRows(p.name)), `${p.name} touched rows`);
      }
      if (end - start > 10) assert.ok(nonZero > 100, `the check must cover non-zero gradients (${nonZero})`);
    }
  });
}

test('batched text-graph head: the per-example path stays available (`batched: false`) and shapes off the tile have none', () => {
  assert.equal(setup(shapes[0].config, false).pointwiseBatch, undefined);
  assert.equal(setup({ textDim: 3, dim: 6, layers: [8], lambda: 0 }, true).pointwiseBatch, undefined);
});
