/** Optimiser steps checked against hand-computed values; lazy updates leave untouched rows alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyAdam } from './adam.js';
import { Sgd } from './sgd.js';
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
