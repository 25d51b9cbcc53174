/**
 * FedRecon runs on small synthetic data: evaluation users are never trained on, their evaluation
 * data is disjoint from their reconstruction data, the result document has the EVALUATION.md shape,
 * and the configuration fills FedRecon's defaults without changing FedAvg's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from '../data/synthetic.js';
import { userSplit } from '../data/split.js';
import { rowOf } from '../data/user-items.js';
import { parseTrainConfig } from '../config/config.js';
import { splitDataset } from './experiment.js';
import { runFedReconTraining } from './fedrecon-experiment.js';
import { allRows, explicitEvaluationUsers, implicitEvaluationClients, trainingClients } from '../federated/fedrecon-data.js';

const ds = generateSynthetic({ users: 150, items: 300, interactions: 9000, seed: 7 });
const users = userSplit(ds.nUsers, [0.8, 0.1, 0.1], 7);
const small = { syntheticUsers: 150, syntheticItems: 300, syntheticInteractions: 9000, seed: 7, algorithm: 'fedrecon', clientsPerRound: 20, k: [10] };

test('explicit: an evaluation user is scored only on ratings it was not reconstructed from', () => {
  const rows = allRows(ds);
  for (const u of explicitEvaluationUsers(rows, users.test, 7)) {
    const recon = new Set(u.reconstruction.items);
    for (const item of u.evaluation.items) assert.ok(!recon.has(item), `user ${u.user}: item ${item} in both parts`);
    assert.equal(u.reconstruction.items.length + u.evaluation.items.length, rowOf(rows, u.user).length);
    assert.ok(u.evaluation.items.length > 0);
  }
});

test('implicit: an evaluation user\'s held-out item is never among its reconstruction data', () => {
  const split = splitDataset(ds, 'loo', 7);
  for (const part of ['validation', 'test'] as const) {
    for (const client of implicitEvaluationClients(split, users[part], part)) {
      const u = client.users[0];
      const recon = new Set(client.positives[0]);
      for (const item of rowOf(split[part], u)) {
        assert.ok(!recon.has(item), `user ${u}: held-out ${item} reconstructed`);
        assert.ok(client.excluded[0].includes(item), 'held-out item not excluded from reconstruction negatives');
      }
      for (const item of rowOf(split.negatives[part], u)) assert.ok(client.excluded[0].includes(item));
    }
  }
});

test('only training users become clients', () => {
  const clients = trainingClients(allRows(ds), users.train);
  const evalUsers = new Set([...users.validation, ...users.test]);
  for (const c of clients) for (const u of c.users) assert.ok(!evalUsers.has(u), `evaluation user ${u} is a client`);
  assert.equal(clients.length, users.train.length);
});

test('explicit run: explicit block per split and per baseline; FedRecon beats the global mean', async () => {
  const { result } = await runFedReconTraining(parseTrainConfig({ ...small, feedback: 'explicit', rounds: 30, evalEvery: 10 }));
  for (const part of ['test', 'validation'] as const) {
    const m = result.metrics[part].explicit!;
    assert.ok(m.rmse > 0 && m.mae > 0 && m.ratingAccuracy >= 0 && m.ratingAccuracy <= 1);
    for (const name of ['globalMean', 'itemMean', 'userItemBias']) assert.ok(result.baselines[name][part]!.explicit, `${name} ${part}`);
  }
  assert.ok(result.metrics.test.explicit!.rmse < result.baselines.globalMean.test!.explicit!.rmse);
  assert.equal(result.history.length, 30);
  assert.ok(result.history[9].validation.explicit);
});

test('implicit run: sampled ranking of unseen users beside popularity and random (full ranking on a ratio split)', async () => {
  const { result } = await runFedReconTraining(parseTrainConfig({ ...small, feedback: 'implicit', rounds: 5, evalEvery: 5 }));
  for (const part of ['test', 'validation'] as const) {
    assert.ok(result.metrics[part].sampled!['HR@10'] >= 0 && result.metrics[part].full === undefined);
    assert.ok(result.baselines.popularity[part]!.sampled && result.baselines.random[part]!.sampled);
  }
  const ratio = await runFedReconTraining(parseTrainConfig({ ...small, feedback: 'implicit', rounds: 2, evalEvery: 2, split: 'ratio:0.8,0.1,0.1' }));
  assert.ok(ratio.result.metrics.test.full!['NDCG@10'] >= 0);
});

test('config: FedRecon defaults fill absent fields only; FedAvg defaults unchanged; bad combinations named', () => {
  const recon = parseTrainConfig({ algorithm: 'fedrecon' });
  assert.equal(recon.feedback, 'explicit');
  assert.equal(recon.clientsPerRound, 50);
  assert.deepEqual(recon.userSplit, [0.8, 0.1, 0.1]);
  assert.equal(parseTrainConfig({ algorithm: 'fedrecon', rounds: 7 }).rounds, 7);
  assert.equal(parseTrainConfig({ algorithm: 'fedrecon', feedback: 'implicit' }).optimizer, 'adam');
  assert.equal(parseTrainConfig({ algorithm: 'fedrecon', fraction: 0.5 }).clientsPerRound, undefined);
  const avg = parseTrainConfig({});
  assert.equal(avg.rounds, 100);
  assert.equal(avg.clientsPerRound, undefined);
  assert.equal(avg.serverOptimizer, 'adam');
  assert.equal(avg.optimizer, 'sgd');
  assert.throws(() => parseTrainConfig({ feedback: 'explicit' }), /feedback: .*fedrecon/);
  assert.throws(() => parseTrainConfig({ algorithm: 'fedrecon', userSplit: [0.8, 0.1, 0.2] }), /userSplit: .*summing to 1/);
  assert.throws(() => parseTrainConfig({ algorithm: 'fedrecon', mode: 'central' }), /mode: .*federated/);
});
