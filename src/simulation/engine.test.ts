/**
 * End-to-end guarantees of the engine on small synthetic data: reproducibility, the leakage guards
 * of EVALUATION.md, what a federated client receives and sends, and that learning beats baselines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining, splitDataset } from '../recipes/experiment.js';
import { partitionClients } from '../federated/partition.js';
import { initGlobal } from './simulation.js';
import { generateSynthetic } from '../data/synthetic.js';
import { withTrainSet } from '../data/split.js';
import { rowOf, hasItem } from '../data/user-items.js';
import { NegativeSampler } from '../data/negatives.js';
import { buildEpochExamples } from '../train/examples.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import { Rng } from '../math/rng.js';
import { trainCentral } from './central.js';
import { createModel } from '../models/registry.js';
import { evaluateRanking } from '../eval/ranking.js';
import type { RoundPlan } from '../federated/types.js';

const small = { syntheticUsers: 120, syntheticItems: 500, syntheticInteractions: 6000, eval: ['sampled'], k: [10] };

test('same seed gives identical federated metrics; another seed differs', async () => {
  const cfg = { ...small, mode: 'federated', rounds: 3, evalEvery: 1 };
  const a = await runTraining(parseTrainConfig({ ...cfg, seed: 5 }));
  const b = await runTraining(parseTrainConfig({ ...cfg, seed: 5 }));
  const c = await runTraining(parseTrainConfig({ ...cfg, seed: 6 }));
  assert.deepEqual(a.result.metrics, b.result.metrics);
  assert.deepEqual(a.result.history.map((h) => h.loss), b.result.history.map((h) => h.loss));
  assert.notDeepEqual(a.result.metrics, c.result.metrics);
});

test('same seed gives identical centralised metrics', async () => {
  const cfg = parseTrainConfig({ ...small, mode: 'central', epochs: 2, seed: 9 });
  const a = await runTraining(cfg);
  const b = await runTraining(cfg);
  assert.deepEqual(a.result.metrics, b.result.metrics);
});

test('no evaluation negative ever appears among a user\'s training examples', () => {
  const ds = generateSynthetic({ users: 80, items: 300, interactions: 4000, seed: 3 });
  const split = splitDataset(ds, 'loo', 3);
  const positives = Array.from({ length: split.nUsers }, (_, u) => ({ user: u, items: rowOf(split.train, u) }));
  const check = (users: Int32Array, items: Int32Array) => {
    for (let k = 0; k < users.length; k++) {
      assert.ok(!hasItem(split.negatives.test, users[k], items[k]), `user ${users[k]} trained on test negative ${items[k]}`);
      assert.ok(!hasItem(split.negatives.validation, users[k], items[k]), `user ${users[k]} trained on validation negative ${items[k]}`);
    }
  };
  // centralised sampler, many epochs (a small catalogue makes collisions likely if unguarded)
  const sampler = new NegativeSampler(split);
  for (let epoch = 0; epoch < 20; epoch++) {
    const ex = buildEpochExamples(positives, sampler, 'bce', 4, Rng.derive(1, epoch));
    check(ex.users, ex.items);
  }
  // federated clients: each builds its sampler from its own data
  for (const client of partitionClients(split, 1, 3)) {
    const ex = buildEpochExamples([{ user: 0, items: client.positives[0] }], clientNegativeSource(split.nItems, client), 'bce', 8, new Rng(client.clientId));
    check(ex.users.map(() => client.users[0]), ex.items);
  }
});

test('a model trained on shuffled labels scores at chance (sampled HR@10 ≈ 0.10)', () => {
  const ds = generateSynthetic({ users: 600, items: 400, interactions: 30000, seed: 4, popularitySkew: 0 });
  const split = splitDataset(ds, 'loo', 4);
  const rng = new Rng(99);
  // replace every user's train positives by random items: the labels carry no information
  const positives = Array.from({ length: split.nUsers }, (_, u) => {
    const n = rowOf(split.train, u).length;
    return { user: u, items: Int32Array.from({ length: n }, () => rng.int(split.nItems)) };
  });
  const model = createModel({ kind: 'mf', dim: 16 }, split.nUsers, split.nItems, { seed: 1 });
  // the sampler excludes the labels trained on, as in a real run (recipes/label-shuffle.test.ts: ML-100K)
  trainCentral(model, positives, new NegativeSampler(withTrainSet(split, positives)), { epochs: 5, batch: 128, loss: 'bce', negatives: 4, optimizer: { kind: 'adam', lr: 0.005 }, evalEvery: 100, seed: 1 }, () => ({}));
  const hr = evaluateRanking(model, split, { part: 'test', protocols: ['sampled'], ks: [10] }).sampled!['HR@10'];
  assert.ok(Math.abs(hr - 0.1) < 0.04, `HR@10 on shuffled labels was ${hr}`);
});

test('a federated client receives only global tables and uploads only the rows it touched', () => {
  const ds = generateSynthetic({ users: 30, items: 400, interactions: 900, seed: 2 });
  const split = splitDataset(ds, 'loo', 2);
  const client = partitionClients(split, 1, 2)[7];
  const config = { kind: 'mf' as const, dim: 8 };
  const global = initGlobal(config, split.nItems, 2);
  const before = Object.fromEntries(Object.entries(global).map(([k, v]) => [k, v.slice()]));
  const plan: RoundPlan = { round: 1, model: config, loss: 'bce', localEpochs: 2, batch: 16, negatives: 4, optimizer: { kind: 'adam', lr: 0.01 }, seed: 1 };
  const { update, state } = runClientRound(plan, global, client, null, clientNegativeSource(split.nItems, client));
  // nothing local on the wire
  assert.deepEqual(Object.keys(update.itemTables).sort(), ['itemBias', 'itemEmb']);
  assert.deepEqual(Object.keys(update.denseTables), ['globalBias']);
  assert.ok(!('userEmb' in update.itemTables) && !('userEmb' in update.denseTables));
  // rows: every positive, plus sampled negatives; never an evaluation negative
  for (const item of client.positives[0]) assert.ok(update.rows.includes(item));
  for (const item of update.rows) assert.ok(!client.excluded[0].includes(item));
  assert.equal(update.itemTables.itemEmb.length, update.rows.length * 8);
  // the server's tables are untouched by client work; the client's own state holds its user row
  for (const [k, v] of Object.entries(global)) assert.deepEqual(v, before[k]);
  assert.ok(state, 'a FedAvg client keeps its state');
  assert.equal(state.local.userEmb.length, 8);
});

test('federated MF and centralised MF both beat popularity on structured synthetic data', async () => {
  const base = { syntheticUsers: 300, syntheticItems: 600, syntheticInteractions: 20000, eval: ['sampled'], k: [10], seed: 1 };
  for (const extra of [{ mode: 'federated', rounds: 20, evalEvery: 20 }, { mode: 'central', epochs: 10, evalEvery: 10 }]) {
    const run = await runTraining(parseTrainConfig({ ...base, ...extra }));
    const model = run.result.metrics.test.sampled!['HR@10'];
    const pop = run.result.baselines.popularity.test!.sampled!['HR@10'];
    assert.ok(model > pop + 0.05, `${extra.mode}: model HR@10 ${model} vs popularity ${pop}`);
  }
});

test('the FedAvg simulation gives the same metrics on 1 and 2 worker threads', async () => {
  const cfg = { ...small, mode: 'federated', rounds: 3, evalEvery: 1, seed: 8 };
  const one = await runTraining(parseTrainConfig({ ...cfg, workers: 1 }));
  const two = await runTraining(parseTrainConfig({ ...cfg, workers: 2 }));
  assert.deepEqual(two.result.metrics, one.result.metrics);
  assert.deepEqual(two.result.history.map((h) => [h.bytesUp, h.bytesDown]), one.result.history.map((h) => [h.bytesUp, h.bytesDown]));
  // the reported mean loss is a float sum in another order: equal to rounding
  two.result.history.forEach((h, k) => assert.ok(Math.abs(h.loss - one.result.history[k].loss) < 1e-12));
});
