/**
 * iALS against dense references on small random problems: the Cholesky solve; a device's
 * closed-form user factor against Hu et al.'s dense normal equations over every item (confidence
 * 1 + α₀ and preference 1/(1 + α₀) for an observed item, α₀ and 0 otherwise — the same objective);
 * the item statistics a device sends, rebuilt into ½∂L/∂h_i by the server's formula, against the
 * dense gradient over every (user, item) pair; the server's step equals the exact ALS item solve
 * when every user observes every item; central iALS never increases its objective.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveSpd } from '../math/cholesky.js';
import { Rng } from '../math/rng.js';
import { buildUserItems } from '../data/user-items.js';
import { gramian, ialsObjective, rowReg, solveAllRows, solveRow, type IalsHyper } from '../models/ials/solve.js';
import { IalsStrategy, runIalsClient, solveLocalUsers } from './ials.js';
import type { ClientData, RoundPlan } from './types.js';
import { itemUsersOf } from '../recipes/ials-experiment.js';

const HYPER: IalsHyper = { unobservedWeight: 0.3, reg: 0.05, regExponent: 1 };

function randomTable(rows: number, cols: number, rng: Rng, scale = 0.5): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => (rng.next() * 2 - 1) * scale);
}

/** x = A⁻¹·b by Gaussian elimination with partial pivoting (independent of the Cholesky code). */
function gaussSolve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Hu et al.'s dense user solve: (Σ_i c_i·h_i·h_iᵀ + λ_u·I)⁻¹ · Σ_i c_i·p_i·h_i over every item. */
function denseUserSolve(H: Float32Array, dim: number, observed: Set<number>, h: IalsHyper): number[] {
  const nItems = H.length / dim;
  const a = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  const b = new Array<number>(dim).fill(0);
  for (let i = 0; i < nItems; i++) {
    const c = observed.has(i) ? 1 + h.unobservedWeight : h.unobservedWeight;
    const p = observed.has(i) ? 1 / (1 + h.unobservedWeight) : 0;
    for (let x = 0; x < dim; x++) {
      b[x] += c * p * H[i * dim + x];
      for (let y = 0; y < dim; y++) a[x][y] += c * H[i * dim + x] * H[i * dim + y];
    }
  }
  const reg = h.reg * Math.pow(observed.size + h.unobservedWeight * nItems, h.regExponent);
  for (let x = 0; x < dim; x++) a[x][x] += reg;
  return gaussSolve(a, b);
}

const plan = (round: number, dim: number): RoundPlan => ({
  round, model: { kind: 'ials', dim }, loss: 'bce', localEpochs: 1, batch: 1, negatives: 0, optimizer: { kind: 'sgd', lr: 1 }, seed: 7,
});

function client(id: number, users: number[], positives: number[][]): ClientData {
  return {
    clientId: id,
    users: Int32Array.from(users),
    positives: positives.map((p) => Int32Array.from(p)),
    ratings: positives.map(() => null),
    excluded: positives.map(() => new Int32Array(0)),
  };
}

test('Cholesky solve: A·x = b to rounding on a random SPD system', () => {
  const rng = new Rng(3);
  const n = 6;
  const m = Array.from({ length: n * n }, () => rng.next() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 0.5 : 0;
    for (let k = 0; k < n; k++) s += m[i * n + k] * m[j * n + k];
    a[i * n + j] = s;
  }
  const b = Float64Array.from({ length: n }, () => rng.next());
  const x = solveSpd(a.slice(), n, b.slice());
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    assert.ok(Math.abs(s - b[i]) < 1e-10, `row ${i}: ${s} vs ${b[i]}`);
  }
});

test('closed-form user factor equals the dense solve over every item (Hu et al. normal equations)', () => {
  const rng = new Rng(11);
  for (const dim of [2, 5, 8]) {
    const nItems = 13;
    const H = randomTable(nItems, dim, rng);
    const observed = [1, 4, 5, 9, 12];
    const w = solveRow(H, dim, Int32Array.from(observed), gramian(H, dim), HYPER.unobservedWeight, rowReg(HYPER, observed.length, nItems), new Float64Array(dim));
    const dense = denseUserSolve(H, dim, new Set(observed), HYPER);
    for (let f = 0; f < dim; f++) assert.ok(Math.abs(w[f] - dense[f]) < 1e-9, `dim ${dim}, [${f}]: ${w[f]} vs ${dense[f]}`);
    // the device's scoring tables are the same solve, stored as float32
    const local = solveLocalUsers(dim, HYPER, { itemEmb: H }, client(0, [0], [observed]));
    for (let f = 0; f < dim; f++) assert.equal(local.userEmb[f], Math.fround(w[f]));
  }
});

test('item statistics of two devices rebuild the dense ½∂L/∂h_i of every item', () => {
  const rng = new Rng(5);
  const dim = 4;
  const nItems = 9;
  const H = randomTable(nItems, dim, rng);
  const positives = [[0, 2, 3], [2, 5], [1, 2, 7, 8]];
  const devices = [client(0, [0, 1], [positives[0], positives[1]]), client(1, [2], [positives[2]])];
  const global = { itemEmb: H, userGramian: new Float32Array(dim * dim) };
  const updates = devices.map((d) => runIalsClient(plan(1, dim), HYPER, global, d).update);
  assert.deepEqual([...updates[0].rows], [0, 2, 3, 5], 'rows: the union of the device\'s positives, sorted');
  // the users' factors as the devices solved them (recomputed here: they never leave the devices)
  const W = positives.map((p) => solveRow(H, dim, Int32Array.from(p), gramian(H, dim), HYPER.unobservedWeight, rowReg(HYPER, p.length, nItems), new Float64Array(dim)));
  const G = new Float64Array(dim * dim);
  for (const u of updates) u.denseTables.userGramian.forEach((v, k) => (G[k] += v));
  for (let i = 0; i < nItems; i++) {
    // the server's formula: summed rows + α₀·G_W·h_i
    const server = new Float64Array(dim);
    for (const u of updates) {
      const k = u.rows.indexOf(i);
      if (k >= 0) for (let f = 0; f < dim; f++) server[f] += u.itemTables.itemEmb[k * dim + f];
    }
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) server[a] += HYPER.unobservedWeight * G[a * dim + b] * H[i * dim + b];
    // dense: Σ_u c_ui·(w_u·h_i − p_ui)·w_u over every user
    const dense = new Float64Array(dim);
    positives.forEach((p, u) => {
      const obs = p.includes(i);
      const c = obs ? 1 + HYPER.unobservedWeight : HYPER.unobservedWeight;
      const pref = obs ? 1 / (1 + HYPER.unobservedWeight) : 0;
      let s = 0;
      for (let f = 0; f < dim; f++) s += W[u][f] * H[i * dim + f];
      for (let f = 0; f < dim; f++) dense[f] += c * (s - pref) * W[u][f];
    });
    for (let f = 0; f < dim; f++) assert.ok(Math.abs(server[f] - dense[f]) < 1e-5, `item ${i} [${f}]: ${server[f]} vs ${dense[f]}`);
  }
});

test('server step: the exact ALS item solve when every user observes every item; an unobserved item goes to 0', () => {
  const rng = new Rng(8);
  const dim = 3;
  const nItems = 5;
  const H = randomTable(nItems, dim, rng);
  const all = [0, 1, 2, 3]; // item 4: nobody
  const devices = [client(0, [0], [all]), client(1, [1], [all]), client(2, [2], [all])];
  const global = { itemEmb: H.slice(), userGramian: new Float32Array(dim * dim) };
  const strategy = new IalsStrategy(nItems, dim, HYPER, 1);
  strategy.beginRound(1);
  const W = new Float32Array(3 * dim);
  devices.forEach((d, u) => {
    strategy.accept(runIalsClient(plan(1, dim), HYPER, { itemEmb: H, userGramian: global.userGramian }, d).update);
    W.set(solveLocalUsers(dim, HYPER, { itemEmb: H }, d).userEmb, u * dim);
  });
  strategy.endRound(global);
  const exact = new Float32Array(nItems * dim);
  const train = buildUserItems(3, Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]), Int32Array.from([...all, ...all, ...all]));
  solveAllRows(exact, W, dim, itemUsersOf(train, nItems), HYPER);
  for (let k = 0; k < exact.length; k++) assert.ok(Math.abs(global.itemEmb[k] - exact[k]) < 1e-4, `[${k}]: ${global.itemEmb[k]} vs ${exact[k]}`);
  for (let f = 0; f < dim; f++) assert.ok(Math.abs(global.itemEmb[4 * dim + f]) < 1e-6);
});

test('central iALS: the objective never increases over alternating solves', () => {
  const rng = new Rng(21);
  const nUsers = 30;
  const nItems = 40;
  const dim = 6;
  const us: number[] = [];
  const is: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const picked = new Set<number>();
    while (picked.size < 3 + (u % 7)) picked.add(rng.int(nItems));
    for (const i of picked) {
      us.push(u);
      is.push(i);
    }
  }
  const train = buildUserItems(nUsers, Int32Array.from(us), Int32Array.from(is));
  const itemUsers = itemUsersOf(train, nItems);
  const counts = Int32Array.from({ length: nItems }, (_, i) => itemUsers.indptr[i + 1] - itemUsers.indptr[i]);
  const W = randomTable(nUsers, dim, rng, 0.05);
  const H = randomTable(nItems, dim, rng, 0.05);
  let last = ialsObjective(W, H, dim, train, counts, HYPER);
  for (let step = 0; step < 6; step++) {
    solveAllRows(H, W, dim, itemUsers, HYPER);
    const afterItems = ialsObjective(W, H, dim, train, counts, HYPER);
    solveAllRows(W, H, dim, train, HYPER);
    const afterUsers = ialsObjective(W, H, dim, train, counts, HYPER);
    assert.ok(afterItems <= last * (1 + 1e-6) && afterUsers <= afterItems * (1 + 1e-6), `step ${step}: ${last} → ${afterItems} → ${afterUsers}`);
    last = afterUsers;
  }
});
