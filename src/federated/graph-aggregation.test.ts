/**
 * Graph aggregation: neighbours are the most similar users (two planted groups are recovered, with
 * exact cosines and with the sketch), normalisation, propagation and θ_global against a dense
 * computation by hand, absent users keep their rows, new users get θ_global.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { GraphAggregation } from './graph.js';
import type { GraphUpdate } from './personal-types.js';
import { VectorSketch } from './user-sketch.js';
import { buildUserGraph, topNeighbours } from './user-graph.js';

/** n users in two groups: vec = group direction + noise, dimension dim. */
function planted(n: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const centres = [0, 1].map(() => Float32Array.from({ length: dim }, () => rng.normal()));
  const group = Int32Array.from({ length: n }, (_, u) => u % 2);
  const vecs = Array.from({ length: n }, (_, u) => Float32Array.from(centres[group[u]], (c) => c + 0.8 * rng.normal()));
  return { group, vecs };
}

for (const width of [0, 128]) {
  test(`top-N neighbours recover two planted groups (${width === 0 ? 'exact' : `sketch ${width}`})`, () => {
    const n = 60;
    const dim = 2000;
    const { group, vecs } = planted(n, dim, 5);
    const sk = new VectorSketch(dim, width, 1);
    const flat = new Float32Array(n * sk.outDim);
    vecs.forEach((v, u) => sk.sketch(v, flat, u * sk.outDim));
    const N = 5;
    const nb = topNeighbours(flat, n, sk.outDim, N);
    for (let u = 0; u < n; u++) {
      for (let k = 0; k < N; k++) {
        const j = nb.index[u * N + k];
        assert.notEqual(j, u);
        assert.equal(group[j], group[u], `user ${u}'s neighbour ${j} is from the other group`);
      }
    }
  });
}

test('top-N keeps exactly the N most similar (not the least similar) users', () => {
  // 1-d "directions" on a circle: similarity falls with angle distance
  const n = 12;
  const v = new Float32Array(n * 2);
  for (let u = 0; u < n; u++) {
    v[2 * u] = Math.cos((u * Math.PI) / 12);
    v[2 * u + 1] = Math.sin((u * Math.PI) / 12);
  }
  const nb = topNeighbours(v, n, 2, 2);
  const of = (u: number) => [...nb.index.subarray(u * 2, u * 2 + 2)].sort((a, b) => a - b);
  assert.deepEqual(of(5), [4, 6]);
  assert.deepEqual(of(0), [1, 2]);
});

test('top-N over several tiles equals a brute-force search (ties aside)', () => {
  const rng = new Rng(9);
  const n = 150;
  const width = 13;
  const v = new Float32Array(n * width);
  for (let u = 0; u < n; u++) {
    const row = Float32Array.from({ length: width }, () => rng.normal());
    const norm = Math.hypot(...row);
    v.set(row.map((x) => x / norm), u * width);
  }
  const N = 7;
  const nb = topNeighbours(v, n, width, N);
  for (let u = 0; u < n; u++) {
    const sims = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < width; k++) s += v[u * width + k] * v[j * width + k];
      return j === u ? -Infinity : s;
    });
    const positive = sims.filter((s) => s > 0).sort((a, b) => b - a);
    const want = Math.min(N, positive.length);
    const got = [...nb.index.subarray(u * N, (u + 1) * N)].filter((j) => j >= 0);
    assert.equal(got.length, want, `user ${u}: ${got.length} neighbours, ${want} with positive similarity`);
    for (const j of got) assert.ok(sims[j] >= positive[want - 1] - 1e-6, `user ${u}: neighbour ${j} (${sims[j]}) is not among the ${N} most similar`);
  }
});

test('normalisation: row sums 1 (row); D^-1/2 S D^-1/2 (sym); self-loops', () => {
  const nb = { index: Int32Array.of(1, 0, 0), sim: Float32Array.of(0.5, 0.5, 0.25) }; // N = 1
  const row = buildUserGraph(nb, 3, 1, { selfLoop: true, norm: 'row' });
  for (let i = 0; i < 3; i++) {
    let s = 0;
    for (let e = row.indptr[i]; e < row.indptr[i + 1]; e++) s += row.weights[e];
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  const sym = buildUserGraph(nb, 3, 1, { selfLoop: false, norm: 'sym' });
  // S' = [[0,.5,0],[.5,0,0],[.25,0,0]]; rows .5,.5,.25; cols .75,.5,0
  assert.ok(Math.abs(sym.weights[0] - 0.5 / Math.sqrt(0.5 * 0.5)) < 1e-6); // (0,1)
  assert.ok(Math.abs(sym.weights[2] - 0.25 / Math.sqrt(0.25 * 0.75)) < 1e-6); // (2,0)
});

/** A GraphUpdate with one user. */
function upload(round: number, user: number, vec: number[], rows: number[], values: number[]): GraphUpdate {
  return {
    round, weight: 1, loss: 0, rows: Int32Array.from(rows), itemTables: {}, denseTables: { 'out.b': Float32Array.of(0) },
    users: [{ user, weightVector: Float32Array.from(vec), rows: Int32Array.from(rows), itemRows: Float32Array.from(values), weight: 1 }],
  };
}

test('propagation and θ_global match a hand computation (row norm, self-loop, L = 1)', () => {
  // d = 1, 3 items, 3 users; users 0 and 1 similar, 2 apart; N = 1
  const global = { item: Float32Array.of(1, 2, 3), 'out.b': Float32Array.of(0) };
  const head = [{ name: 'out.b', rows: 1, cols: 1, index: 'dense' as const, scope: 'global' as const }];
  const g = new GraphAggregation(global, 4, 3, 2, head, { neighbors: 1, layers: 1, norm: 'row', selfLoop: true, sketchDim: 0, seed: 1 });
  g.beginRound(1);
  g.accept(upload(1, 0, [1, 0.1], [0, 1], [2, 4])); // D_0 = [1, 2, ·]
  g.accept(upload(1, 1, [1, 0.2], [1, 2], [6, 3])); // D_1 = [·, 4, 0]
  g.accept(upload(1, 2, [-0.1, 1], [0], [0])); //       D_2 = [-1, ·, ·]
  g.endRound(global);
  // sims: cos(0,1) ≈ 0.995, cos(0,2) ≈ 0.0, cos(1,2) > 0 small: user 2's best is user 1
  const s01 = (1 + 0.02) / Math.hypot(1, 0.1) / Math.hypot(1, 0.2);
  const s21 = (-0.1 + 0.2) / Math.hypot(0.1, 1) / Math.hypot(1, 0.2);
  // R_0 on rows {0,1}: (1·D_0 + s01·D_1)/(1+s01), D_1 row 0 absent → 0
  const r0 = [(1 * 1 + s01 * 0) / (1 + s01), (1 * 2 + s01 * 4) / (1 + s01)];
  const r1 = [(1 * 4 + s01 * 2) / (1 + s01), (1 * 0 + s01 * 0) / (1 + s01)]; // rows {1,2}; D_0 row 2 absent
  const r2 = [(1 * -1 + s21 * 0) / (1 + s21)]; // row 0; D_1 has no row 0
  // degrees: row sums + column sums of S'
  const deg = [1 + s01 + 1 + s01, 1 + s01 + 1 + s01 + s21, 1 + s21 + 1];
  const theta = [
    1 + (deg[0] * r0[0] + deg[2] * r2[0]) / (deg[0] + deg[2]),
    2 + (deg[0] * r0[1] + deg[1] * r1[0]) / (deg[0] + deg[1]),
    3 + (deg[1] * r1[1]) / deg[1],
  ];
  theta.forEach((t, i) => assert.ok(Math.abs(global.item[i] - t) < 1e-5, `θ[${i}] = ${global.item[i]}, expected ${t}`));
  // personal rows: R_u − θ_new on the user's rows, so θ + Δ = θ_old + R
  const p0 = g.personal(0)!;
  assert.deepEqual([...p0.rows], [0, 1]);
  assert.ok(Math.abs(global.item[0] + p0.delta[0] - (1 + r0[0])) < 1e-5);
  assert.ok(Math.abs(global.item[1] + p0.delta[1] - (2 + r0[1])) < 1e-5);
  assert.equal(g.personal(3), null, 'a new user gets θ_global');

  // round 2: only user 1 takes part; user 0 keeps its last R_0 on its rows
  const before = [global.item[0] + p0.delta[0], global.item[1] + p0.delta[1]];
  g.beginRound(2);
  g.accept(upload(2, 1, [1, 0.2], [1], [10]));
  g.endRound(global);
  const after = g.personal(0)!;
  assert.ok(Math.abs(global.item[0] + after.delta[0] - before[0]) < 1e-5);
  assert.ok(Math.abs(global.item[1] + after.delta[1] - before[1]) < 1e-5);
});

test('graph aggregation rejects plain FedAvg updates with a clear error', () => {
  const global = { item: new Float32Array(2), 'out.b': new Float32Array(1) };
  const g = new GraphAggregation(global, 1, 2, 1, [], { neighbors: 1, layers: 1, norm: 'row', selfLoop: true, sketchDim: 0, seed: 1 });
  g.beginRound(1);
  assert.throws(() => g.accept({ round: 1, weight: 1, loss: 0, rows: new Int32Array(0), itemTables: {}, denseTables: {} }), /GraphUpdate/);
});

test("personal rows 'union': a neighbour's trained rows reach the user's table (R_u = Σ_j S''_uj A_j on them)", () => {
  const global = { item: Float32Array.of(1, 2, 3), 'out.b': Float32Array.of(0) };
  const head = [{ name: 'out.b', rows: 1, cols: 1, index: 'dense' as const, scope: 'global' as const }];
  const g = new GraphAggregation(global, 2, 3, 2, head, { neighbors: 1, layers: 1, norm: 'row', selfLoop: true, sketchDim: 0, seed: 1, personalRows: 'union' });
  g.beginRound(1);
  g.accept(upload(1, 0, [1, 0.1], [0, 1], [2, 4])); // D_0 = [1, 2, ·]
  g.accept(upload(1, 1, [1, 0.2], [1, 2], [6, 5])); // D_1 = [·, 4, 2]
  g.endRound(global);
  const s01 = (1 + 0.02) / Math.hypot(1, 0.1) / Math.hypot(1, 0.2);
  const p0 = g.personal(0)!;
  assert.deepEqual([...p0.rows], [0, 1, 2]);
  // row 2: user 0 never trained it; its neighbour did: R_0[2] = θ_old[2] + s01·D_1[2] / (1 + s01)
  assert.ok(Math.abs(global.item[2] + p0.delta[2] - (3 + (s01 * 2) / (1 + s01))) < 1e-5);
  assert.ok(Math.abs(global.item[1] + p0.delta[1] - (2 + (2 + s01 * 4) / (1 + s01))) < 1e-5);
});

test('server optimiser: θ takes an Adam step towards θ_global; each participant keeps its deviation R_u − θ_global', () => {
  const head = [{ name: 'out.b', rows: 1, cols: 1, index: 'dense' as const, scope: 'global' as const }];
  const run = (serverOptimizer?: { kind: 'adam'; lr: number }) => {
    const global = { item: Float32Array.of(1, 2, 3, 4), 'out.b': Float32Array.of(0) };
    const g = new GraphAggregation(global, 3, 4, 2, head, { neighbors: 1, layers: 1, norm: 'row', selfLoop: true, sketchDim: 0, seed: 1, serverOptimizer });
    g.beginRound(1);
    g.accept(upload(1, 0, [1, 0.1], [0, 1], [2, 4]));
    g.accept(upload(1, 1, [1, 0.2], [1, 2], [6, 1]));
    g.accept(upload(1, 2, [-0.1, 1], [0], [0]));
    g.endRound(global);
    return { theta: global.item, personal: (u: number) => g.personal(u)! };
  };
  const eq17 = run(); // SGD lr 1: θ = θ_global, θ + Δ_u = R_u
  const adam = run({ kind: 'adam', lr: 0.1 });
  const old = [1, 2, 3, 4];
  for (let i = 0; i < 3; i++) {
    const step = Math.sign(eq17.theta[i] - old[i]) * 0.1; // Adam's first step: lr · sign
    assert.ok(Math.abs(adam.theta[i] - (old[i] + step)) < 1e-5, `θ[${i}] = ${adam.theta[i]}, expected ${old[i] + step}`);
  }
  assert.equal(adam.theta[3], 4, 'a row nobody holds keeps its value');
  for (const u of [0, 1, 2]) {
    const a = adam.personal(u);
    const e = eq17.personal(u);
    assert.deepEqual([...a.rows], [...e.rows]);
    a.rows.forEach((row, k) => assert.ok(Math.abs(a.delta[k] - e.delta[k]) < 1e-5, `user ${u}, row ${row}: Δ ${a.delta[k]} vs R_u − θ_global ${e.delta[k]}`));
  }
});
