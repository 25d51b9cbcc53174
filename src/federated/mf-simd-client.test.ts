import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { splitDataset } from '../recipes/experiment.js';
import { partitionClients } from './partition.js';
import { initGlobal } from '../simulation/simulation.js';
import { clientNegativeSource, runClientRound } from './client-work.js';
import { mfSimdApplies, simdSupported } from './mf-simd-client.js';
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
