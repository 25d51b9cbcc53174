/** Optimiser steps checked against hand-computed values; lazy updates leave untouched rows alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyAdam } from './adam.js';
import { Sgd } from './sgd.js';
import { createOptimizer } from './registry.js';
import { RowSparseGrads, paramInfo } from '../models/params.js';

function setup() {
  const info = [paramInfo('emb', 3, 2, 'item')];
  const table = Float32Array.from([1, 1, 2, 2, 3, 3]);
  const grads = new RowSparseGrads(info);
  grads.values.emb.set([0.5, -1], 2); // row 1
  grads.touch('emb', 1);
  return { table, grads };
}

test('SGD: θ ← θ − lr·(g + wd·θ) on touched rows only', () => {
  const { table, grads } = setup();
  new Sgd({ kind: 'sgd', lr: 0.1, weightDecay: 0.5 }).step({ emb: table }, grads, ['emb']);
  assert.deepEqual([...table].map((v) => +v.toFixed(5)), [1, 1, 2 - 0.1 * (0.5 + 1), 2 - 0.1 * (-1 + 1), 3, 3]);
});

test('SGD momentum accumulates velocity', () => {
  const { table, grads } = setup();
  const opt = new Sgd({ kind: 'sgd', lr: 1, momentum: 0.9 });
  opt.step({ emb: table }, grads, ['emb']); // v = g
  opt.step({ emb: table }, grads, ['emb']); // v = 0.9 g + g
  assert.ok(Math.abs(table[2] - (2 - 0.5 - 1.9 * 0.5)) < 1e-6);
});

test('Adam first step moves each touched value by lr·sign(g)', () => {
  const { table, grads } = setup();
  new LazyAdam({ kind: 'adam', lr: 0.01 }).step({ emb: table }, grads, ['emb']);
  assert.ok(Math.abs(table[2] - (2 - 0.01)) < 1e-6);
  assert.ok(Math.abs(table[3] - (2 + 0.01)) < 1e-6);
  assert.deepEqual([table[0], table[1], table[4], table[5]], [1, 1, 3, 3]);
});

test('Adam second step matches the textbook update', () => {
  const { table, grads } = setup();
  const opt = new LazyAdam({ kind: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  opt.step({ emb: table }, grads, ['emb']);
  opt.step({ emb: table }, grads, ['emb']);
  // constant gradient g: m̂ = g, v̂ = g² at every step, so each step moves lr·sign(g)
  assert.ok(Math.abs(table[2] - (2 - 0.2)) < 1e-5);
});

/** Two steps with different gradients (rows 1 then 0 and 2), so every slot holds distinct values. */
function twoGrads() {
  const info = [paramInfo('emb', 3, 2, 'item'), paramInfo('w', 1, 2, 'dense')];
  const a = new RowSparseGrads(info);
  a.values.emb.set([0.5, -1], 2);
  a.touch('emb', 1);
  a.values.w.set([0.25, 0.75]);
  a.touch('w', 0);
  const b = new RowSparseGrads(info);
  b.values.emb.set([-0.3, 0.2, 0, 0, 0.7, 0.1]);
  b.touch('emb', 0);
  b.touch('emb', 2);
  b.values.w.set([-0.5, 0.125]);
  b.touch('w', 0);
  return [a, b];
}

for (const config of [
  { kind: 'adam', lr: 0.05, weightDecay: 0.01 },
  { kind: 'sgd', lr: 0.3, momentum: 0.9, weightDecay: 0.01 },
  { kind: 'sgd', lr: 0.3 },
] as const) {
  test(`${config.kind}${'momentum' in config ? ' momentum' : ''}: export → import into a fresh optimiser → identical next steps`, () => {
    const [a, b] = twoGrads();
    const tables = () => ({ emb: Float32Array.from([1, 1, 2, 2, 3, 3]), w: Float32Array.from([0.5, -0.5]) });
    const names = ['emb', 'w'];
    const original = createOptimizer(config);
    const t1 = tables();
    original.step(t1, a, names);
    original.step(t1, b, names);
    const state = original.exportState();
    assert.equal(state.step, 2);
    const expectedKeys = config.kind === 'adam' ? ['m/emb', 'm/w', 'v/emb', 'v/w'] : 'momentum' in config ? ['velocity/emb', 'velocity/w'] : [];
    assert.deepEqual(Object.keys(state.tables).sort(), expectedKeys);
    for (const k of expectedKeys) assert.equal(state.tables[k].length, k.endsWith('emb') ? 6 : 2);

    const restored = createOptimizer(config);
    restored.importState(state);
    const t2 = { emb: t1.emb.slice(), w: t1.w.slice() };
    for (const g of [b, a, b]) {
      original.step(t1, g, names);
      restored.step(t2, g, names);
    }
    assert.deepEqual([...t2.emb], [...t1.emb]);
    assert.deepEqual([...t2.w], [...t1.w]);
    assert.deepEqual(restored.exportState(), original.exportState());

    // the export is a copy: stepping afterwards does not change it
    const snapshot = original.exportState();
    const copied = Object.fromEntries(Object.entries(snapshot.tables).map(([k, v]) => [k, [...v]]));
    original.step(t1, a, names);
    assert.deepEqual(Object.fromEntries(Object.entries(snapshot.tables).map(([k, v]) => [k, [...v]])), copied);
    assert.equal(snapshot.step, 5);

    if (config.kind === 'adam' || 'momentum' in config) {
      // a fresh optimiser (no state) would have stepped differently: the state matters
      const fresh = createOptimizer(config);
      const t3 = { emb: t2.emb.slice(), w: t2.w.slice() };
      fresh.step(t3, a, names);
      restored.step(t2, a, names);
      assert.notDeepEqual([...t3.emb], [...t2.emb]);
    }
  });
}

test('importState refuses a state of another kind or a bad step, and changes nothing', () => {
  const [a] = twoGrads();
  const adam = createOptimizer({ kind: 'adam', lr: 0.1 });
  adam.step({ emb: Float32Array.from([1, 1, 2, 2, 3, 3]), w: Float32Array.from([0, 0]) }, a, ['emb', 'w']);
  const adamState = adam.exportState();
  assert.throws(() => createOptimizer({ kind: 'sgd', lr: 1, momentum: 0.5 }).importState(adamState), /SGD state: unexpected slot 'm\/emb'/);
  assert.throws(() => createOptimizer({ kind: 'sgd', lr: 1 }).importState({ step: 1, tables: { 'velocity/emb': new Float32Array(6) } }), /unexpected slot 'velocity\/emb' \(expected no slots\)/);
  assert.throws(() => createOptimizer({ kind: 'adam', lr: 1 }).importState({ step: 1, tables: { 'm/emb': new Float32Array(6) } }), /'m' but no 'v'/);
  assert.throws(() => createOptimizer({ kind: 'adam', lr: 1 }).importState({ step: -1, tables: {} }), /non-negative integer/);
  const before = adam.exportState();
  assert.throws(() => adam.importState({ step: 3, tables: { 'x/emb': new Float32Array(6) } }), /unexpected slot 'x\/emb'/);
  assert.deepEqual(adam.exportState(), before);
});
