import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelParamInfo } from '../models/registry.js';
import { boundUpdate, clipUpdate, serverWeight, updateNorm } from './bounds.js';
import { FedAvg } from './fedavg.js';
import type { GlobalUpdate } from './types.js';
import { validateUpdate } from '../server/validate.js';

const info = modelParamInfo({ kind: 'mf', dim: 2 }, 0, 4).filter((p) => p.scope === 'global');
const update = (round: number, value: number, weight = 1): GlobalUpdate => ({
  round,
  weight,
  loss: 0.5,
  rows: Int32Array.from([0, 1, 2, 3]),
  itemTables: { itemEmb: new Float32Array(8).fill(value), itemBias: new Float32Array(4).fill(value) },
  denseTables: { globalBias: Float32Array.from([value]) },
});
const globalOf = (): Record<string, Float32Array> => ({ itemEmb: new Float32Array(8), itemBias: new Float32Array(4), globalBias: new Float32Array(1) });
const finite = (g: Record<string, Float32Array>) => Object.values(g).every((t) => t.every(Number.isFinite));

test('clipping scales an update to the bound; weights are the server\'s', () => {
  const u = update(1, 1e30);
  assert.ok(updateNorm(u) > 1e30);
  const c = clipUpdate(u, 10);
  assert.equal(c.clipped, true);
  assert.ok(Math.abs(updateNorm(c.update) - 10) < 1e-4);
  assert.equal(serverWeight(1e6, { weighting: 'uniform' }), 1);
  assert.equal(serverWeight(0, { weighting: 'uniform' }), 0);
  assert.equal(serverWeight(1e6, { weighting: 'examples', weightCap: 500 }), 500);
  assert.equal(boundUpdate({ ...u, loss: 1e308 }, { weighting: 'uniform', clipNorm: 10 })?.loss, 0);
  assert.equal(boundUpdate(update(1, Number.NaN), { weighting: 'uniform', clipNorm: 10 }), null);
});

test('one client of ten sending -1e30 with weight 1e6 cannot turn a bounded FedAdam model against the nine honest ones', () => {
  const make = () => new FedAvg(info, 4, { serverOptimizer: { kind: 'adam', lr: 0.02 }, rowAveraging: 'touched', clientWeighting: 'uniform', clipNorm: 10 });
  const honest = make();
  const attacked = make();
  const gh = globalOf();
  const ga = globalOf();
  for (let r = 1; r <= 3; r++) {
    honest.beginRound(r);
    attacked.beginRound(r);
    for (let k = 0; k < 9; k++) {
      honest.accept(update(r, 0.5 + 0.1 * k, 100));
      attacked.accept(update(r, 0.5 + 0.1 * k, 100));
    }
    attacked.accept(update(r, -1e30, 1e6));
    assert.equal(honest.endRound(gh).refused, undefined);
    assert.equal(attacked.endRound(ga).refused, undefined);
  }
  assert.ok(finite(ga));
  for (const v of Object.values(attacked.serverState().tables)) assert.ok(v.every(Number.isFinite));
  // honest deltas are positive: every parameter still moved up, as without the attacker
  for (const name of Object.keys(gh)) for (let k = 0; k < gh[name].length; k++) assert.ok(ga[name][k] > 0 && gh[name][k] > 0, `${name}[${k}] = ${ga[name][k]}`);
});

test('without bounds an update that would overflow the server Adam state is refused: model and state unchanged', () => {
  const s = new FedAvg(info, 4, { serverOptimizer: { kind: 'adam', lr: 0.02 }, rowAveraging: 'touched', clientWeighting: 'examples' });
  const g = globalOf();
  s.beginRound(1);
  s.accept(update(1, 0.5));
  assert.equal(s.endRound(g).refused, undefined);
  const before = { model: Object.fromEntries(Object.entries(g).map(([n, t]) => [n, t.slice()])), state: s.serverState() };
  s.beginRound(2);
  s.accept(update(2, 1e30));
  const summary = s.endRound(g);
  assert.match(summary.refused ?? '', /non-finite/);
  assert.deepEqual(g, before.model);
  assert.deepEqual(s.serverState(), before.state);
});

test('the coordinator\'s validation refuses a loss outside ±1e6 and still refuses non-finite values', () => {
  const opts = { nItems: 4, maxWeight: 1e6, normMode: 'reject' as const };
  assert.throws(() => validateUpdate({ ...update(1, 0.1), loss: 1e308 }, info, opts), (e: Error & { reason?: string }) => e.reason === 'loss');
  const nan = update(1, 0.1);
  nan.itemTables.itemEmb[3] = Number.NaN;
  assert.throws(() => validateUpdate(nan, info, opts), (e: Error & { reason?: string }) => e.reason === 'not-finite' && /itemEmb/.test(e.message));
});
