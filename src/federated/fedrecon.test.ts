/**
 * Federated Reconstruction: each phase trains only its scope (checked against a hand-computed SGD
 * step), nothing local is sent or kept, the server averages as stated, and evaluation never scores
 * the data a user was reconstructed from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import type { GlobalParams, ModelConfig } from '../models/types.js';
import { FedRecon, namesOf, reconstructLocal, restrictRows, runFedReconClient, trainPhase, type ReconPlan } from './fedrecon.js';
import { alternateSplit, disjointSplit, reuseAllSplit } from './recon-split.js';
import { clientNegativeSource } from './client-work.js';
import type { ClientData, GlobalUpdate, RoundPlan } from './types.js';
import { initGlobal } from '../simulation/simulation.js';

const config: ModelConfig = { kind: 'mf', dim: 2 };
const nItems = 6;

/** A hand-set MF model of one user: p = [0.5, -1], b_u = 0.25, q_i = [i/10, 1 - i/10], b_i = i/100, g = 3. */
function handModel() {
  const global = {
    itemEmb: Float32Array.from({ length: nItems * 2 }, (_, k) => (k % 2 === 0 ? (k >> 1) / 10 : 1 - (k >> 1) / 10)),
    itemBias: Float32Array.from({ length: nItems }, (_, i) => i / 100),
    globalBias: Float32Array.of(3),
  };
  const local = { userEmb: Float32Array.of(0.5, -1), userBias: Float32Array.of(0.25) };
  return createModel(config, 1, nItems, { global, local });
}

const rows = Int32Array.from({ length: nItems }, (_, i) => i);
const oneExample = [{ users: Int32Array.of(0), items: Int32Array.of(2), labels: Float32Array.of(4), negatives: null, length: 1 }];
const phasePlan = { loss: 'mse' as const, batch: 1 };

test('reconstruction trains the local tables only: one SGD step by hand', () => {
  const model = handModel();
  const globalBefore = Object.fromEntries(Object.entries(model.params.global).map(([k, v]) => [k, v.slice()]));
  // s = 0.5·0.2 + (−1)·0.8 + 0.25 + 0.02 + 3 = 2.57; dL/ds = 2(2.57 − 4) = −2.86
  trainPhase(model, oneExample, rows, phasePlan, { kind: 'sgd', lr: 0.1 }, namesOf(model.info, 'local'));
  const g = -2.86;
  assert.ok(Math.abs(model.params.local.userEmb[0] - (0.5 - 0.1 * g * 0.2)) < 1e-6);
  assert.ok(Math.abs(model.params.local.userEmb[1] - (-1 - 0.1 * g * 0.8)) < 1e-6);
  assert.ok(Math.abs(model.params.local.userBias[0] - (0.25 - 0.1 * g)) < 1e-6);
  for (const [name, before] of Object.entries(globalBefore)) assert.deepEqual(model.params.global[name], before, `${name} changed`);
});

test('post-reconstruction trains the global tables only: one SGD step by hand', () => {
  const model = handModel();
  const localBefore = Object.fromEntries(Object.entries(model.params.local).map(([k, v]) => [k, v.slice()]));
  trainPhase(model, oneExample, rows, phasePlan, { kind: 'sgd', lr: 0.1 }, namesOf(model.info, 'global'));
  const g = -2.86;
  assert.ok(Math.abs(model.params.global.itemEmb[4] - (0.2 - 0.1 * g * 0.5)) < 1e-6);
  assert.ok(Math.abs(model.params.global.itemEmb[5] - (0.8 - 0.1 * g * -1)) < 1e-6);
  assert.ok(Math.abs(model.params.global.itemBias[2] - (0.02 - 0.1 * g)) < 1e-6);
  assert.ok(Math.abs(model.params.global.globalBias[0] - (3 - 0.1 * g)) < 1e-5);
  assert.equal(model.params.global.itemBias[3], Math.fround(0.03)); // untouched row
  for (const [name, before] of Object.entries(localBefore)) assert.deepEqual(model.params.local[name], before, `${name} changed`);
});

/** A client with `n` ratings (or implicit positives) over a 40-item catalogue. */
function client(n: number, explicit: boolean, clientId = 3): ClientData {
  const items = Int32Array.from({ length: n }, (_, k) => 2 * k + 1);
  return {
    clientId,
    users: Int32Array.of(17),
    positives: [items],
    ratings: [explicit ? Float32Array.from(items, (i) => 1 + (i % 5)) : null],
    excluded: [Int32Array.of(0, 2)],
  };
}

const catalogue = 40;
const mf: ModelConfig = { kind: 'mf', dim: 4, initStd: 0.1 };
const recon: ReconPlan = { reconstruction: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 2, stepsMax: 0 }, postReconstructionStepsMax: 0, split: alternateSplit };

function roundPlan(loss: RoundPlan['loss']): RoundPlan {
  return { round: 1, model: mf, loss, localEpochs: 2, batch: 4, negatives: 2, optimizer: { kind: 'sgd', lr: 0.1 }, seed: 11 };
}

test('a client sends only global tables, only rows it trained on, and keeps no state', () => {
  for (const explicit of [true, false]) {
    const data = client(12, explicit);
    const global = initGlobal(mf, catalogue, 1);
    const before = Object.fromEntries(Object.entries(global).map(([k, v]) => [k, v.slice()]));
    const sampler = explicit ? null : clientNegativeSource(catalogue, data);
    const result = runFedReconClient(roundPlan(explicit ? 'mse' : 'bce'), recon, global, data, sampler);
    const { update } = result;
    assert.equal(result.state, null);
    assert.deepEqual(Object.keys(update.itemTables).sort(), ['itemBias', 'itemEmb']);
    assert.deepEqual(Object.keys(update.denseTables), ['globalBias']);
    assert.equal(update.itemTables.itemEmb.length, update.rows.length * 4);
    assert.equal(update.itemTables.itemBias.length, update.rows.length);
    // every sent row belongs to the client's data or its sampled negatives, never to excluded items
    for (const item of update.rows) assert.ok(!data.excluded[0].includes(item), `sent excluded item ${item}`);
    if (explicit) {
      // explicit: exactly the post-reconstruction half of the ratings (6 of 12), no reconstruction-only row
      assert.equal(update.rows.length, 6);
      for (const item of update.rows) assert.ok(data.positives[0].includes(item));
      for (let k = 0; k < update.rows.length; k++) assert.ok(Math.abs(update.itemTables.itemBias[k]) > 0, 'a sent row was not trained');
    }
    // the server's tables are untouched by client work
    for (const [k, v] of Object.entries(global)) assert.deepEqual(v, before[k]);
    // stateless: the same client in the same round produces the same update
    const again = runFedReconClient(roundPlan(explicit ? 'mse' : 'bce'), recon, global, data, explicit ? null : clientNegativeSource(catalogue, data));
    assert.deepEqual(again.update, update);
  }
});

test('the server refuses an update that carries a local table', () => {
  const info = modelParamInfo(mf, 0, catalogue);
  const server = new FedRecon(info, catalogue, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched', clientWeighting: 'examples' });
  server.beginRound(1);
  const sneaky: GlobalUpdate = {
    round: 1, weight: 1, rows: Int32Array.of(0), loss: 0,
    itemTables: { itemEmb: new Float32Array(4), itemBias: new Float32Array(1), userEmb: new Float32Array(4) },
    denseTables: { globalBias: new Float32Array(1) },
  };
  assert.throws(() => server.accept(sneaky), /userEmb.*not a global table/);
});

test('the server averages touched rows by weight (or uniformly) and applies SGD with the server lr', () => {
  const info = modelParamInfo({ kind: 'mf', dim: 1 }, 0, 3);
  const update = (weight: number, rows: number[], emb: number[], g: number): GlobalUpdate => ({
    round: 1, weight, rows: Int32Array.from(rows), loss: 0,
    itemTables: { itemEmb: Float32Array.from(emb), itemBias: new Float32Array(rows.length) },
    denseTables: { globalBias: Float32Array.of(g) },
  });
  for (const weighting of ['examples', 'uniform'] as const) {
    const global: GlobalParams = { itemEmb: new Float32Array(3), itemBias: new Float32Array(3), globalBias: new Float32Array(1) };
    const server = new FedRecon(info, 3, { serverOptimizer: { kind: 'sgd', lr: 0.5 }, rowAveraging: 'touched', clientWeighting: weighting });
    server.beginRound(1);
    server.accept(update(3, [0, 1], [1, 2], 1));
    server.accept(update(1, [1], [5], 2));
    server.endRound(global);
    assert.ok(Math.abs(global.itemEmb[0] - 0.5 * 1) < 1e-6); // only the first client touched row 0
    assert.ok(Math.abs(global.itemEmb[1] - 0.5 * (weighting === 'examples' ? (3 * 2 + 5) / 4 : (2 + 5) / 2)) < 1e-6);
    assert.equal(global.itemEmb[2], 0);
    assert.ok(Math.abs(global.globalBias[0] - 0.5 * (weighting === 'examples' ? (3 + 2) / 4 : 1.5)) < 1e-6);
  }
});

test('restrictRows keeps the chosen rows of every item table', () => {
  const u: GlobalUpdate = {
    round: 1, weight: 1, rows: Int32Array.of(2, 5, 9), loss: 0,
    itemTables: { itemEmb: Float32Array.of(1, 2, 3, 4, 5, 6), itemBias: Float32Array.of(7, 8, 9) },
    denseTables: { globalBias: Float32Array.of(1) },
  };
  const r = restrictRows(u, Int32Array.of(2, 9));
  assert.deepEqual([...r.rows], [2, 9]);
  assert.deepEqual([...r.itemTables.itemEmb], [1, 2, 5, 6]);
  assert.deepEqual([...r.itemTables.itemBias], [7, 9]);
  assert.deepEqual(r.denseTables, u.denseTables);
});

test('split functions: alternate, reuse, and evaluation only ever disjoint', () => {
  assert.deepEqual(alternateSplit(5), { reconstruction: Int32Array.of(0, 2, 4), postReconstruction: Int32Array.of(1, 3) });
  assert.deepEqual(reuseAllSplit(3), { reconstruction: Int32Array.of(0, 1, 2), postReconstruction: Int32Array.of(0, 1, 2) });
  assert.deepEqual(disjointSplit(alternateSplit, 4), alternateSplit(4));
  assert.throws(() => disjointSplit(reuseAllSplit, 4), /disjoint/);
});

test('with the reuse split both phases see all of a client\'s data', () => {
  const data = client(10, true);
  const result = runFedReconClient(roundPlan('mse'), { ...recon, split: reuseAllSplit }, initGlobal(mf, catalogue, 1), data, null);
  assert.deepEqual([...result.update.rows], [...data.positives[0]]);
});

test('max steps cap each phase: with one post-reconstruction step of batch 4, at most 4 rows are sent', () => {
  const data = client(20, true);
  const result = runFedReconClient(roundPlan('mse'), { ...recon, postReconstructionStepsMax: 1 }, initGlobal(mf, catalogue, 1), data, null);
  assert.ok(result.update.rows.length <= 4 && result.update.rows.length > 0, `${result.update.rows.length} rows sent`);
  assert.equal(result.update.weight, 4);
});

test('reconstructLocal fits a user to its ratings without touching the global tables', () => {
  // items with known factors; the user rates along factor 0: reconstruction must lower the error
  const global = initGlobal(mf, catalogue, 5);
  for (let i = 0; i < catalogue; i++) global.itemEmb[i * 4] = i % 2 === 0 ? 1 : -1;
  global.globalBias[0] = 3;
  const before = Object.fromEntries(Object.entries(global).map(([k, v]) => [k, v.slice()]));
  const items = Int32Array.from({ length: 20 }, (_, k) => k);
  const ratings = Float32Array.from(items, (i) => (i % 2 === 0 ? 4.5 : 1.5));
  const plan = { model: mf, loss: 'mse' as const, batch: 4, negatives: 0 };
  const local = reconstructLocal(plan, { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 20, stepsMax: 0 }, global, [{ user: 0, items, ratings }], null, new Rng(1));
  const model = createModel(mf, 1, catalogue, { global, local });
  let sse = 0;
  for (let k = 0; k < items.length; k++) sse += (model.score(0, items[k]) - ratings[k]) ** 2;
  assert.ok(sse / items.length < 0.1, `reconstructed MSE ${sse / items.length}`);
  for (const [k, v] of Object.entries(global)) assert.deepEqual(v, before[k]);
});
