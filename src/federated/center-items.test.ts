import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, modelParamInfo } from '../models/registry.js';
import { FedAvg } from './fedavg.js';
import type { GlobalUpdate } from './types.js';

const nItems = 5;
const info = modelParamInfo({ kind: 'mf', dim: 2 }, 0, nItems).filter((p) => p.scope === 'global');
const globalOf = () => ({ itemEmb: Float32Array.from({ length: 10 }, (_, k) => Math.sin(k + 1)), itemBias: Float32Array.from({ length: 5 }, (_, k) => 0.1 * k), globalBias: new Float32Array(1) });
/** "+1 on every row" of every table. */
const shiftAll = (round: number): GlobalUpdate => ({
  round, weight: 1, loss: 0, rows: Int32Array.from({ length: nItems }, (_, i) => i),
  itemTables: { itemEmb: new Float32Array(2 * nItems).fill(1), itemBias: new Float32Array(nItems).fill(1) }, denseTables: { globalBias: Float32Array.of(1) },
});
const ranking = (g: ReturnType<typeof globalOf>, user: Float32Array) => {
  const m = createModel({ kind: 'mf', dim: 2 }, 1, nItems, { global: g, local: { userEmb: user, userBias: new Float32Array(1) } });
  const scores = new Float32Array(nItems);
  m.scoreItems(0, Int32Array.from({ length: nItems }, (_, i) => i), scores);
  return Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
};

test('centering: a uniform push on every item row moves no item row; without it Adam moves every row by lr', () => {
  for (const centerItems of [true, false]) {
    const s = new FedAvg(info, nItems, { serverOptimizer: { kind: 'adam', lr: 0.1 }, rowAveraging: 'touched', clientWeighting: 'uniform', centerItems });
    const g = globalOf();
    const before = globalOf();
    for (let r = 1; r <= 3; r++) {
      s.beginRound(r);
      s.accept(shiftAll(r));
      s.endRound(g);
    }
    const moved = Math.max(...g.itemEmb.map((v, k) => Math.abs(v - before.itemEmb[k])), ...g.itemBias.map((v, k) => Math.abs(v - before.itemBias[k])));
    if (centerItems) assert.ok(moved < 1e-6, `moved ${moved}`);
    else assert.ok(moved > 0.25, `moved ${moved}`);
    assert.notEqual(g.globalBias[0], 0); // dense tables are not centred
  }
});

test('centering keeps what can reorder items: a push on one row still moves it, relative to the others', () => {
  const s = new FedAvg(info, nItems, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'all', clientWeighting: 'uniform', centerItems: true });
  const g = globalOf();
  const user = Float32Array.of(1, 0);
  s.beginRound(1);
  const up = new Float32Array(2 * nItems);
  up[0] = 5; // item 0 pushed along the user's direction
  s.accept({ ...shiftAll(1), itemTables: { itemEmb: up, itemBias: new Float32Array(nItems) } });
  s.endRound(g);
  assert.equal(ranking(g, user)[0], 0);
  // the shift by the mean leaves the other items' order as it was
  assert.deepEqual(ranking(g, user).slice(1), ranking(globalOf(), user).filter((i) => i !== 0));
});
