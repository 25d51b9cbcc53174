import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { splitDataset } from '../recipes/experiment.js';
import { partitionClients } from './partition.js';
import { initGlobal } from '../simulation/simulation.js';
import { clientNegativeSource, runClientRound } from './client-work.js';
import { mfKernelExamples, mfSimdApplies, rngStateOf, simdSupported } from './mf-simd-client.js';
import { Rng } from '../math/rng.js';
import { UserNegativeSampler } from '../data/negatives.js';
import { buildEpochExamples, type NegativeSource } from '../train/examples.js';
import type { RoundPlan } from './types.js';

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
};

test('this Node has WebAssembly SIMD, so default MF clients take the SIMD path', () => {
  assert.ok(simdSupported());
  const plan = { model: { kind: 'mf' as const, dim: 32 }, loss: 'bce' as const, optimizer: { kind: 'sgd' as const, lr: 1 } };
  assert.ok(mfSimdApplies(plan));
  assert.ok(!mfSimdApplies({ ...plan, model: { kind: 'mf', dim: 30 } }), 'dim not a multiple of 4');
  assert.ok(!mfSimdApplies({ ...plan, optimizer: { kind: 'sgd', lr: 1, momentum: 0.9 } }), 'momentum');
  assert.ok(!mfSimdApplies({ ...plan, optimizer: { kind: 'adam', lr: 0.01 } }), 'adam');
  assert.ok(!mfSimdApplies({ ...plan, loss: 'bpr' }), 'bpr');
  assert.ok(!mfSimdApplies({ ...plan, model: { kind: 'neumf', dim: 32 } }), 'neumf');
});

test('SIMD MF client rounds agree with the generic path: same rows, deltas, loss and user tables to rounding', () => {
  const ds = generateSynthetic({ users: 40, items: 300, interactions: 2400, seed: 5 });
  const split = splitDataset(ds, 'loo', 5);
  const clients = partitionClients(split, 2, 5); // two users per client: several user rows per batch
  const config = { kind: 'mf' as const, dim: 16, initStd: 0.1 };
  const global = initGlobal(config, split.nItems, 5);
  let bitwiseDifferent = 0;
  for (const optimizer of [{ kind: 'sgd' as const, lr: 1, weightDecay: 3e-3 }, { kind: 'sgd' as const, lr: 0.5 }]) {
    const states = { simd: new Map<number, ReturnType<typeof runClientRound>['state']>(), js: new Map<number, ReturnType<typeof runClientRound>['state']>() };
    for (let round = 1; round <= 3; round++) {
      const plan: RoundPlan = { round, model: config, loss: 'bce', localEpochs: 2, batch: 8, negatives: 4, optimizer, seed: 10 + round };
      for (const client of clients.slice(0, 6)) {
        const sampler = () => clientNegativeSource(split.nItems, client);
        const a = runClientRound(plan, global, client, states.simd.get(client.clientId) ?? null, sampler());
        const b = runClientRound(plan, global, client, states.js.get(client.clientId) ?? null, sampler(), { simd: false });
        states.simd.set(client.clientId, a.state);
        states.js.set(client.clientId, b.state);
        assert.deepEqual(a.update.rows, b.update.rows);
        assert.equal(a.update.weight, b.update.weight);
        assert.ok(Math.abs(a.update.loss - b.update.loss) < 1e-5, `loss ${a.update.loss} vs ${b.update.loss}`);
        for (const name of ['itemEmb', 'itemBias']) assert.ok(maxAbsDiff(a.update.itemTables[name], b.update.itemTables[name]) < 1e-5, name);
        assert.ok(maxAbsDiff(a.update.denseTables.globalBias, b.update.denseTables.globalBias) < 1e-5);
        for (const name of ['userEmb', 'userBias']) assert.ok(maxAbsDiff(a.state.local[name], b.state.local[name]) < 1e-5, name);
        assert.ok(a.update.itemTables.itemEmb.some((v) => v !== 0), 'the client trained');
        if (maxAbsDiff(a.update.itemTables.itemEmb, b.update.itemTables.itemEmb) > 0) bitwiseDifferent++;
      }
      // the server moves between rounds: the SIMD client must pick up the new global table
      for (let k = 0; k < global.itemEmb.length; k++) global.itemEmb[k] += 0.01 * Math.sin(k + round);
    }
  }
  assert.ok(bitwiseDifferent > 0, 'float32 vector arithmetic: the two paths really are different code');
});

test('the kernels draw the examples of the JavaScript: rngStateOf is Rng.derive, the xoshiro128** draws, negatives, shuffle and the stream after it (three epochs)', () => {
  // catalogues small and large (the float64 path of Rng.int), several users, users without positives, ratios 0–5
  const cases = [
    { nItems: 50, users: [[1, 2, 3], [], [49, 0]], ratio: 4 },
    { nItems: 1682, users: [[5, 7, 900, 1681, 5]], ratio: 4 },
    { nItems: 100_003, users: [[10, 20, 30], [99_999]], ratio: 5 },
    { nItems: 40, users: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]], ratio: 1 },
    { nItems: 40, users: [[3]], ratio: 0 },
  ];
  for (const [c, spec] of cases.entries()) {
    for (const seed of [0, 1, 42, -7, 123456789]) {
      const positives = spec.users.map((p) => Int32Array.from(p));
      // exclusions: the positives plus a block of other items (as held-out positives and evaluation negatives)
      const exclusions = positives.map((p, u) => Int32Array.from(new Set([...p, ...Array.from({ length: 8 }, (_, j) => (u * 13 + j * 3) % spec.nItems)])).sort());
      const source: NegativeSource = {
        nItems: spec.nItems,
        sample: (u, count, rng, out, offset) => new UserNegativeSampler(spec.nItems, exclusions[u]).sample(count, rng, out, offset),
      };
      const rng = Rng.derive(seed, 'client', c);
      const job = { positives, exclusions, nItems: spec.nItems, rngState: rngStateOf(seed, 'client', c) };
      const kernel = mfKernelExamples(job, spec.ratio, 3);
      for (const got of kernel) {
        const want = buildEpochExamples(positives.map((items, user) => ({ user, items })), source, 'bce', spec.ratio, rng);
        assert.deepEqual(got.users, want.users, `case ${c} seed ${seed}: users`);
        assert.deepEqual(got.items, want.items, `case ${c} seed ${seed}: items`);
        assert.deepEqual(got.labels, want.labels, `case ${c} seed ${seed}: labels`);
      }
    }
  }
});

test('the MF client round in the kernels equals the JavaScript examples and rows through the SIMD client, bit for bit', () => {
  const ds = generateSynthetic({ users: 60, items: 400, interactions: 3600, seed: 9, timestamps: true });
  const split = splitDataset(ds, 'loo', 9);
  for (const usersPerClient of [1, 3]) {
    const clients = partitionClients(split, usersPerClient, 9);
    const config = { kind: 'mf' as const, dim: 16, initStd: 0.1 };
    const global = initGlobal(config, split.nItems, 9);
    type State = ReturnType<typeof runClientRound>['state'];
    const states = { kernel: new Map<number, State>(), js: new Map<number, State>() };
    for (let round = 1; round <= 3; round++) {
      const plan: RoundPlan = {
        round, model: config, loss: 'bce', localEpochs: round === 2 ? 1 : 2, batch: 8, negatives: 4, optimizer: { kind: 'sgd', lr: 0.5, weightDecay: 1e-3 }, seed: 20 + round,
        recency: round === 3 ? { window: 3, weight: 2 } : undefined,
      };
      for (const client of clients.slice(0, 8)) {
        const own = clientNegativeSource(split.nItems, client);
        const a = runClientRound(plan, global, client, states.kernel.get(client.clientId) ?? null, own);
        // a source of its own (not clientNegativeSource's): the examples are built in JavaScript
        const b = runClientRound(plan, global, client, states.js.get(client.clientId) ?? null, { nItems: own.nItems, sample: own.sample });
        states.kernel.set(client.clientId, a.state);
        states.js.set(client.clientId, b.state);
        assert.deepEqual(a.update.rows, b.update.rows);
        assert.equal(a.update.weight, b.update.weight);
        assert.equal(a.update.loss, b.update.loss);
        for (const name of ['itemEmb', 'itemBias']) assert.deepEqual(a.update.itemTables[name], b.update.itemTables[name], name);
        assert.deepEqual(a.update.denseTables.globalBias, b.update.denseTables.globalBias);
        for (const name of ['userEmb', 'userBias']) assert.deepEqual(a.state.local[name], b.state.local[name], name);
        assert.ok(a.update.itemTables.itemEmb.some((v) => v !== 0), 'the client trained');
      }
      for (let k = 0; k < global.itemEmb.length; k++) global.itemEmb[k] += 0.01 * Math.sin(k + round);
      for (let k = 0; k < global.itemBias.length; k++) global.itemBias[k] += 0.01 * Math.cos(k + round);
    }
  }
});

test('transient updates (views of the kernels\' memory) hold the values of the copied ones until the next client round', () => {
  const ds = generateSynthetic({ users: 30, items: 400, interactions: 1800, seed: 4 });
  const split = splitDataset(ds, 'loo', 4);
  const clients = partitionClients(split, 1, 4);
  const config = { kind: 'mf' as const, dim: 8, initStd: 0.1 };
  const global = initGlobal(config, split.nItems, 4);
  const plan: RoundPlan = { round: 1, model: config, loss: 'bce', localEpochs: 1, batch: 8, negatives: 4, optimizer: { kind: 'sgd', lr: 1 }, seed: 3 };
  for (const client of clients.slice(0, 5)) {
    const source = clientNegativeSource(split.nItems, client);
    const copied = runClientRound(plan, global, client, null, source).update;
    const transient = runClientRound(plan, global, client, null, source, { transientUpdate: true }).update;
    assert.deepEqual(transient.rows, copied.rows);
    assert.deepEqual(transient.itemTables, copied.itemTables);
    assert.deepEqual(transient.denseTables, copied.denseTables);
    assert.equal(transient.loss, copied.loss);
  }
});
