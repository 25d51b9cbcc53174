// The attack bench's crafted updates: the sign flip and its diagnostic variants touch what they say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { craftUpdate } from './attacks.js';
import type { GlobalUpdate } from '../federated/types.js';
import type { GlobalParams } from '../models/types.js';

const honest: GlobalUpdate = {
  round: 1,
  rows: Int32Array.from([0, 2]),
  itemTables: { itemEmb: Float32Array.from([1, -2, 3, 0.5]), itemBias: Float32Array.from([0.25, -1]) },
  denseTables: { globalBias: Float32Array.from([0.5]) },
  weight: 1,
  loss: 0.7,
};
const global = { itemEmb: new Float32Array(6), itemBias: new Float32Array(3), globalBias: new Float32Array(1) } as unknown as GlobalParams;
const times = (t: Float32Array, f: number) => Array.from(t, (v) => v * f);

test('sign flip variants: the whole update, or only the embedding or the bias table, the rest honest', () => {
  const all = craftUpdate('signflip', honest, global, 3, 1);
  assert.deepEqual(Array.from(all.itemTables.itemEmb), times(honest.itemTables.itemEmb, -100));
  assert.deepEqual(Array.from(all.denseTables.globalBias), times(honest.denseTables.globalBias, -100));
  const unboosted = craftUpdate('flip', honest, global, 3, 1);
  assert.deepEqual(Array.from(unboosted.itemTables.itemBias), times(honest.itemTables.itemBias, -1));
  const emb = craftUpdate('signflip-emb', honest, global, 3, 1);
  assert.deepEqual(Array.from(emb.itemTables.itemEmb), times(honest.itemTables.itemEmb, -100));
  assert.equal(emb.itemTables.itemBias, honest.itemTables.itemBias);
  assert.equal(emb.denseTables, honest.denseTables);
  const bias = craftUpdate('signflip-bias', honest, global, 3, 1);
  assert.deepEqual(Array.from(bias.itemTables.itemBias), times(honest.itemTables.itemBias, -100));
  assert.equal(bias.itemTables.itemEmb, honest.itemTables.itemEmb);
  assert.deepEqual(bias.rows, honest.rows);
});
