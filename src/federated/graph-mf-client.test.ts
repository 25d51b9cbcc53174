/**
 * MF under graph aggregation (GPFedRec, KDD 2024, with an MF client): the λ term's gradient by
 * finite differences; the row-sparse sketch equals the sketch of the dense vector; the item-update
 * similarity recovers two planted groups of users; a client round starts from R_u = θ + Δ_u and
 * uploads each user's rows [q_i, b_i] and no user vector; λ pulls the trained rows towards R_u.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { mfParamInfo } from '../models/mf/mf.js';
import { RowSparseGrads } from '../models/params.js';
import { GraphAggregation } from './graph.js';
import { proximity, runGraphMfClientRound, type GraphMfPlan } from './graph-mf-client.js';
import { clientNegativeSource } from './client-work.js';
import type { GraphUpdate } from './personal-types.js';
import type { ClientData } from './types.js';
import { VectorSketch } from './user-sketch.js';
import { paramInfo } from '../models/params.js';

test('λ term: its gradient equals finite differences of the batch value λ·Σ_r (n_r/B)‖Q_r − R_r‖²', () => {
  const rng = new Rng(3);
  const d = 4;
  const rows = 6;
  const q = Float64Array.from({ length: rows * d }, () => rng.normal());
  const b = Float64Array.from({ length: rows }, () => rng.normal());
  const target = Float32Array.from({ length: rows * (d + 1) }, () => rng.normal());
  const items = Int32Array.of(0, 2, 2, 5, 1, 2, 3);
  const examples = { users: new Int32Array(items.length), items, labels: new Float32Array(items.length), negatives: null, length: items.length };
  const batch = 4;
  const evalBatch = (q32: Float32Array, b32: Float32Array) => {
    const grads = new RowSparseGrads(mfParamInfo(1, rows, d));
    const hook = proximity(0.7, examples, batch, q32, b32, target, d);
    const first = hook(grads);
    return { first, grads };
  };
  const base = evalBatch(Float32Array.from(q), Float32Array.from(b));
  const h = 1e-3;
  for (const row of [0, 2, 5]) {
    for (const f of [0, 3]) {
      const plus = Float32Array.from(q);
      const minus = Float32Array.from(q);
      plus[row * d + f] += h;
      minus[row * d + f] -= h;
      const numeric = (evalBatch(plus, Float32Array.from(b)).first - evalBatch(minus, Float32Array.from(b)).first) / (2 * h);
      assert.ok(Math.abs(numeric - base.grads.values.itemEmb[row * d + f]) < 1e-3, `row ${row} factor ${f}: ${numeric} vs ${base.grads.values.itemEmb[row * d + f]}`);
    }
    const plus = Float32Array.from(b);
    const minus = Float32Array.from(b);
    plus[row] += h;
    minus[row] -= h;
    const numeric = (evalBatch(Float32Array.from(q), plus).first - evalBatch(Float32Array.from(q), minus).first) / (2 * h);
    assert.ok(Math.abs(numeric - base.grads.values.itemBias[row]) < 1e-3, `row ${row} bias: ${numeric} vs ${base.grads.values.itemBias[row]}`);
  }
  // rows outside the first batch (items 0, 2, 2, 5) get nothing
  for (const row of [1, 3, 4]) assert.equal(base.grads.values.itemBias[row], 0);
});

test('the row-sparse sketch equals the sketch of the dense vector (exact and width 64)', () => {
  const rng = new Rng(4);
  const width = 5;
  const nRows = 40;
  const rows = Int32Array.of(1, 7, 8, 30, 39);
  const values = Float32Array.from({ length: rows.length * width }, () => rng.normal());
  const dense = new Float32Array(nRows * width);
  rows.forEach((r, k) => dense.set(values.subarray(k * width, (k + 1) * width), r * width));
  for (const w of [0, 64]) {
    const sk = new VectorSketch(nRows * width, w, 2);
    const a = new Float32Array(sk.outDim);
    const b = new Float32Array(sk.outDim).fill(9);
    sk.sketch(dense, a, 0);
    sk.sketchRows(rows, values, width, b, 0);
    assert.deepEqual([...b], [...a]);
  }
});

test("similarity 'items': users whose item updates share a direction on the same items are each other's neighbours", () => {
  const rng = new Rng(5);
  const nUsers = 12;
  const nItems = 50;
  const d = 3;
  const global = { item: new Float32Array(nItems * d), globalBias: new Float32Array(1) };
  const agg = new GraphAggregation(global, nUsers, nItems, nItems * d, [paramInfo('globalBias', 1, 1, 'dense')], {
    neighbors: 3, layers: 1, norm: 'row', selfLoop: true, sketchDim: 64, seed: 1, similarity: 'items',
  });
  agg.beginRound(1);
  for (let u = 0; u < nUsers; u++) {
    const group = u % 2;
    const rows = Int32Array.from({ length: 10 }, (_, k) => group * 25 + k * 2);
    const itemRows = Float32Array.from({ length: rows.length * d }, (_, k) => (group === 0 ? 1 : -1) * (1 + (k % d)) + 0.3 * rng.normal());
    const update: GraphUpdate = { round: 1, weight: 1, rows: new Int32Array(0), itemTables: {}, denseTables: { globalBias: new Float32Array(1) }, loss: 0, users: [{ user: u, weightVector: new Float32Array(0), rows, itemRows, weight: 1 }] };
    agg.accept(update);
  }
  agg.endRound(global);
  const { users, graph } = agg.lastGraph!;
  for (let i = 0; i < users.length; i++) {
    for (let e = graph.indptr[i]; e < graph.indptr[i + 1]; e++) assert.equal(users[graph.indices[e]] % 2, users[i] % 2, `user ${users[i]}'s neighbour ${users[graph.indices[e]]}`);
  }
});

function client(): ClientData {
  return { clientId: 0, users: Int32Array.of(3), positives: [Int32Array.of(1, 4, 6, 9)], ratings: [null], excluded: [Int32Array.of(2)] };
}

const PLAN: GraphMfPlan = { round: 1, seed: 8, dim: 4, loss: 'bce', localEpochs: 2, batch: 4, negatives: 2, optimizer: { kind: 'sgd', lr: 0.5 }, lambda: 0 };

test('a client round trains from R_u = θ + Δ_u and uploads its rows [q_i, b_i], no user vector; λ pulls them towards R_u', () => {
  const nItems = 20;
  const d = PLAN.dim;
  const rng = new Rng(1);
  const global = { item: Float32Array.from({ length: nItems * (d + 1) }, () => 0.1 * rng.normal()), globalBias: Float32Array.of(0.2) };
  const personalRows = Int32Array.of(1, 4, 6, 9);
  const personal = { rows: personalRows, delta: Float32Array.from({ length: personalRows.length * (d + 1) }, () => rng.normal()) };
  const distance = (lambda: number) => {
    const r = runGraphMfClientRound({ ...PLAN, lambda }, { global, personal: () => personal }, client(), null, clientNegativeSource(nItems, client()));
    const up = r.update.users[0];
    assert.equal(up.user, 3);
    assert.equal(up.weightVector.length, 0);
    assert.equal(up.itemRows.length, up.rows.length * (d + 1));
    assert.ok([1, 4, 6, 9].every((i) => up.rows.includes(i)));
    assert.ok(!up.rows.includes(2), 'an excluded item is never a negative');
    assert.equal(r.state.local.userEmb.length, d);
    let s = 0;
    for (let k = 0; k < up.rows.length; k++) {
      const at = personalRows.indexOf(up.rows[k]);
      for (let f = 0; f <= d; f++) {
        const target = global.item[up.rows[k] * (d + 1) + f] + (at >= 0 ? personal.delta[at * (d + 1) + f] : 0);
        s += (up.itemRows[k * (d + 1) + f] - target) ** 2;
      }
    }
    return s;
  };
  const free = distance(0);
  const pulled = distance(5);
  assert.ok(free > 0);
  assert.ok(pulled < free, `λ 5 leaves the rows at ${pulled} from R_u, λ 0 at ${free}`);
});
