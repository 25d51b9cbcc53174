/**
 * Text-graph client model: every gradient (joint layer a, b and the first layer's user half —
 * deferred to the batch hook —, item rows, MLP head, the optional dot-product branch and recent-items
 * term) matches central finite differences of the batch loss, the λ term included; the recent-items
 * term adds the mean of the user's recent item rows to e_u.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { bceWithLogits } from '../../math/kernels.js';
import { initParams, RowSparseGrads } from '../params.js';
import { initJointLayer, recentItemsOf, TextGraphModel, textGraphParamInfo, textInputs, type RecentItems, type TextGraphConfig } from './model.js';

const baseConfig: TextGraphConfig = { textDim: 5, dim: 3, layers: [4, 3], lambda: 0.7 };
const config = baseConfig;
const nUsers = 2;
const nRows = 6;
const batch = [
  { u: 0, i: 0, y: 1 }, { u: 0, i: 1, y: 0 }, { u: 0, i: 2, y: 0 },
  { u: 1, i: 3, y: 1 }, { u: 1, i: 4, y: 0 }, { u: 1, i: 5, y: 0 }, { u: 1, i: 3, y: 1 },
];

/** User 0's recent rows include row 5, which user 1's examples also train; user 1's is row 3, its positive. */
const recentRows: RecentItems = recentItemsOf([Int32Array.of(0, 5), Int32Array.of(3)]);

function setup(config: TextGraphConfig = baseConfig, recent: RecentItems | null = null) {
  const rng = new Rng(3);
  const params = initParams(textGraphParamInfo(config, nUsers, nRows), 0.5, rng);
  for (const t of Object.values(params.local)) for (let k = 0; k < t.length; k++) t[k] = rng.normal() * 0.5;
  for (const [name, t] of Object.entries(params.global)) if (name.endsWith('.b')) for (let k = 0; k < t.length; k++) t[k] = rng.normal() * 0.3;
  const texts = Float32Array.from({ length: nUsers * config.textDim }, () => rng.normal());
  const target = Float32Array.from({ length: nRows * config.dim }, () => rng.normal() * 0.5);
  const w0 = initJointLayer(config, rng);
  const model = new TextGraphModel(config, nUsers, nRows, params, textInputs(config, texts, w0), { target }, recent);
  return { model, params, texts, w0 };
}

/** Batch loss: mean BCE + λ Σ_groups mean_rows ‖Q_r − R_r‖². */
function lossOf(model: TextGraphModel, grads: RowSparseGrads | null): number {
  let total = 0;
  const scale = 1 / batch.length;
  const sink = grads ?? new RowSparseGrads(model.info);
  for (const { u, i, y } of batch) {
    const r = bceWithLogits(model.score(u, i), y);
    total += r.loss * scale;
    model.backward(u, i, r.grad * scale, sink);
  }
  const reg = model.endBatch(sink);
  if (!grads) sink.reset();
  return total + reg;
}

const variants = [{ dot: false, withRecent: false }, { dot: true, withRecent: false }, { dot: true, withRecent: true }, { dot: false, withRecent: true }];
for (const { dot, withRecent } of variants) test(`text-graph${dot ? ' with the dot-product branch' : ''}${withRecent ? ' with the recent-items term' : ''}: analytic gradients (λ term included) match finite differences`, () => {
  const { model, params } = setup({ ...baseConfig, dot, recentItems: withRecent ? 2 : 0 }, withRecent ? recentRows : null);
  const grads = new RowSparseGrads(model.info);
  lossOf(model, grads);
  const h = 1e-3;
  let checked = 0;
  for (const p of model.info) {
    const table = (p.scope === 'local' ? params.local : params.global)[p.name];
    const step = Math.max(1, Math.floor(table.length / 12));
    for (let k = 0; k < table.length; k += step) {
      const old = table[k];
      table[k] = old + h;
      model.invalidate();
      const up = lossOf(model, null);
      table[k] = old - h;
      model.invalidate();
      const down = lossOf(model, null);
      table[k] = old;
      model.invalidate();
      const numeric = (up - down) / (2 * h);
      const analytic = grads.values[p.name][k];
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(numeric), `${p.name}[${k}]: analytic ${analytic}, numeric ${numeric}`);
      checked++;
    }
  }
  assert.ok(checked > 60);
});

test('text-graph: the λ term of a batch is λ·Σ_r (n_r/B)·‖Q_r − R_r‖² on the rows its examples use', () => {
  const { model, params } = setup();
  const grads = new RowSparseGrads(model.info);
  for (const { u, i } of batch) model.backward(u, i, 0, grads); // zero loss gradient: only the λ term remains
  const value = model.endBatch(grads);
  const q = params.global.item;
  const target = (model as unknown as { proximal: { target: Float32Array } }).proximal.target;
  const uses = new Array(nRows).fill(0);
  for (const { i } of batch) uses[i]++;
  let expected = 0;
  for (let r = 0; r < nRows; r++) {
    const w = (config.lambda * uses[r]) / batch.length;
    let s = 0;
    for (let f = 0; f < config.dim; f++) {
      const diff = q[r * config.dim + f] - target[r * config.dim + f];
      s += diff * diff;
      assert.ok(Math.abs(grads.values.item[r * config.dim + f] - 2 * w * diff) < 1e-5, `row ${r}`);
    }
    expected += w * s;
  }
  assert.ok(Math.abs(value - expected) < 1e-5);
  assert.deepEqual([...grads.touchedRows('item')].sort(), [0, 1, 2, 3, 4, 5]);
});

test('text-graph: the factored joint layer is e_u = v_u·W_u + b_u with W_u = W_init + v_u ⊗ a_u (v_u ⊗ a_u is uploaded)', () => {
  const { model, params, texts, w0 } = setup();
  const { textDim: T, dim: d } = config;
  const items = Int32Array.of(0, 1, 2, 3, 4, 5);
  const before = new Float32Array(items.length);
  const after = new Float32Array(items.length);
  for (let u = 0; u < nUsers; u++) {
    const w = new Float32Array(T * d);
    model.weightVector(u, w);
    for (let t = 0; t < T; t++) for (let f = 0; f < d; f++) assert.ok(Math.abs(w[t * d + f] - texts[u * T + t] * params.local.jointA[u * d + f]) < 1e-6);
    // the score through the full W_u = W_init + v_u ⊗ a_u: put e_u − v_u·W_u into b_u with a_u = 0
    const e = new Float32Array(d);
    for (let f = 0; f < d; f++) {
      let s = params.local.jointB[u * d + f];
      for (let t = 0; t < T; t++) s += texts[u * T + t] * (w0[t * d + f] + w[t * d + f]);
      e[f] = s;
    }
    model.scoreItems(u, items, before);
    const a = params.local.jointA.slice(u * d, (u + 1) * d);
    const b = params.local.jointB.slice(u * d, (u + 1) * d);
    const base = new Float32Array(d);
    for (let f = 0; f < d; f++) for (let t = 0; t < T; t++) base[f] += texts[u * T + t] * w0[t * d + f];
    for (let f = 0; f < d; f++) {
      params.local.jointA[u * d + f] = 0;
      params.local.jointB[u * d + f] = e[f] - base[f];
    }
    model.invalidate();
    model.scoreItems(u, items, after);
    for (let k = 0; k < items.length; k++) assert.ok(Math.abs(before[k] - after[k]) < 1e-4, `user ${u}, item ${k}: ${before[k]} vs ${after[k]}`);
    params.local.jointA.set(a, u * d);
    params.local.jointB.set(b, u * d);
    model.invalidate();
  }
});

test('text-graph: with W_init shared, users with the same text start with the same e_u and others differ', () => {
  const cfg: TextGraphConfig = { textDim: 4, dim: 3, layers: [2], lambda: 0 };
  const rng = new Rng(9);
  const v = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 0, 0.6, 0.8, 0);
  const inputs = textInputs(cfg, v, initJointLayer(cfg, rng));
  const row = (u: number) => [...inputs.base.subarray(u * 3, (u + 1) * 3)];
  assert.deepEqual(row(0), row(1));
  assert.notDeepEqual(row(0), row(2));
  assert.ok(row(0).some((x) => Math.abs(x) > 1e-3), 'v·W_init is not zero: the text reaches e_u from the start');
});

test('text-graph: the recent-items term adds the mean of the user\'s recent item rows to e_u', () => {
  const cfg: TextGraphConfig = { ...baseConfig, dot: true, recentItems: 2 };
  const { model: plain, params, texts, w0 } = setup(cfg);
  const withRecent = new TextGraphModel(cfg, nUsers, nRows, params, textInputs(cfg, texts, w0), null, recentRows);
  const d = cfg.dim;
  const q = params.global.item;
  // e_u of user 0 with the term equals e_u + (Q[0] + Q[5]) / 2: put that shift into b_u of the plain model
  const b = params.local.jointB.slice(0, d);
  const items = Int32Array.of(0, 1, 2, 3, 4, 5);
  const expected = new Float32Array(items.length);
  const got = new Float32Array(items.length);
  withRecent.scoreItems(0, items, got);
  for (let f = 0; f < d; f++) params.local.jointB[f] += (q[f] + q[5 * d + f]) / 2;
  plain.invalidate();
  plain.scoreItems(0, items, expected);
  params.local.jointB.set(b, 0);
  for (let k = 0; k < items.length; k++) assert.ok(Math.abs(got[k] - expected[k]) < 1e-5, `item ${k}: ${got[k]} vs ${expected[k]}`);
  assert.throws(() => new TextGraphModel(cfg, nUsers, nRows, params, { vectors: new Float32Array(nUsers * cfg.textDim), base: new Float32Array(nUsers * d) }, null, recentItemsOf([Int32Array.of(6), Int32Array.of()])), /recent item row 6 outside the item table of 6 rows/);
});
