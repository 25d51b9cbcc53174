/** The membership attack's pieces: AUC against hand-computed cases, and the attack separating an item table that memorised its members. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { auc, lossThresholdAuc } from './membership.js';

test('AUC: perfect, inverted, chance and ties', () => {
  assert.equal(auc([3, 4, 1, 2], [true, true, false, false]), 1);
  assert.equal(auc([1, 2, 3, 4], [true, true, false, false]), 0);
  assert.equal(auc([1, 1, 1, 1], [true, false, true, false]), 0.5);
  assert.equal(auc([1, 2, 3], [false, true, false]), 0.5);
});

test('the loss-threshold attack finds members an item table memorised, and is at chance on an uninformative one', () => {
  const nItems = 200;
  const dim = 8;
  const rng = new Rng(1);
  const members = Array.from({ length: 40 }, () => Int32Array.from(new Set(Array.from({ length: 10 }, () => rng.int(nItems)))));
  const others = Array.from({ length: 40 }, () => Int32Array.from(new Set(Array.from({ length: 10 }, () => rng.int(nItems)))));
  // memorising: every member's items share that member's own direction
  const Q = new Float32Array(nItems * dim).map(() => 0.1 * rng.normal());
  members.forEach((items, m) => items.forEach((i) => { Q[i * dim + (m % dim)] += 1; }));
  const candidates = [...members.map((items) => ({ items, member: true })), ...others.map((items) => ({ items, member: false }))];
  const memorised = lossThresholdAuc({ itemEmb: Q, itemBias: new Float32Array(nItems), globalBias: new Float32Array(1) }, candidates, { dim, seed: 1 });
  assert.ok(memorised > 0.7, `AUC on a memorising table ${memorised}`);
  const blank = lossThresholdAuc({ itemEmb: new Float32Array(nItems * dim), itemBias: new Float32Array(nItems), globalBias: new Float32Array(1) }, candidates, { dim, seed: 1 });
  assert.equal(blank, 0.5);
});
