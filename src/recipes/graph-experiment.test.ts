/**
 * Graph-model runs end to end on small synthetic data: LightGCN and NCL (centralised) beat the
 * popularity baseline on full ranking; a federated graph client sends only item-row deltas of its
 * positives and sampled negatives; graph defaults and flags reach the config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining, splitDataset } from './experiment.js';
import { partitionClients } from '../federated/partition.js';
import { generateSynthetic } from '../data/synthetic.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { runGraphClientRound } from '../federated/graph-client.js';
import { computePrototypes } from '../models/ncl/prototypes.js';
import { Rng } from '../math/rng.js';
import { fillNormal } from '../math/kernels.js';

const small = { syntheticUsers: 150, syntheticItems: 300, syntheticInteractions: 6000, split: 'ratio:0.8,0.1,0.1', eval: ['full'], k: [10], evalEvery: 100, dim: 16, batch: 256, clusters: 10 };

for (const model of ['lightgcn', 'ncl']) {
  test(`centralised ${model} beats popularity on full ranking`, async () => {
    // NCL with its central defaults (ssl_reg 1e-6, proto_reg 1e-7); 1e-5 overwhelms BPR on this tiny set.
    const run = await runTraining(parseTrainConfig({ ...small, model, mode: 'central', epochs: 8, warmUp: 2 }));
    const ndcg = run.result.metrics.test.full!['NDCG@10'];
    const pop = run.result.baselines.popularity.test!.full!['NDCG@10'];
    assert.ok(ndcg > pop * 1.1, `${model} NDCG@10 ${ndcg} vs popularity ${pop}`);
  });
}

test('federated ncl runs and reports bytes; the client update holds item rows only', async () => {
  const run = await runTraining(parseTrainConfig({ ...small, model: 'ncl', mode: 'federated', rounds: 2, warmUp: 1, batch: 32 }));
  assert.equal(run.result.history.length, 2);
  assert.ok(run.result.history.every((h) => h.bytesUp > 0 && h.bytesDown > 0));

  const ds = generateSynthetic({ users: 20, items: 400, interactions: 800, seed: 1 });
  const split = splitDataset(ds, 'ratio:0.8,0.1,0.1', 1);
  const client = partitionClients(split, 1, 1)[3];
  const dim = 8;
  const itemEmb = fillNormal(new Float32Array(split.nItems * dim), 0.1, new Rng(2));
  const itemPrototypes = computePrototypes(itemEmb, dim, { clusters: 4, iterations: 3, seed: 3 });
  const plan = {
    round: 1, seed: 9, dim, layers: 2, reg: 1e-4, localEpochs: 2, batch: 8, optimizer: { kind: 'adam' as const, lr: 0.01 },
    ncl: { loss: { hyperLayers: 1, sslTemp: 0.1, sslReg: 1e-6, alpha: 1, protoReg: 1e-6, clusters: 4, kmeansIterations: 3, warmUp: 0 }, itemPrototypes },
  };
  const { update, state } = runGraphClientRound(plan, itemEmb, client, null, clientNegativeSource(split.nItems, client));
  assert.deepEqual(Object.keys(update.itemTables), ['itemEmb']);
  assert.deepEqual(Object.keys(update.denseTables), []);
  assert.equal(update.itemTables.itemEmb.length, update.rows.length * dim);
  for (const item of client.positives[0]) assert.ok(update.rows.includes(item), `positive ${item} missing from the update rows`);
  for (const item of client.excluded[0]) assert.ok(!update.rows.includes(item), `held-out / evaluation item ${item} in the update rows`);
  assert.equal(state?.local.userEmb.length, dim);
});

test('graph defaults fill only absent fields; --gcn-layers is separate from NeuMF --layers', () => {
  const c = parseTrainConfig({ model: 'ncl', mode: 'central', lr: 0.002, gcnLayers: 2 });
  assert.equal(c.lr, 0.002);
  assert.equal(c.batch, 4096);
  assert.equal(c.gcnLayers, 2);
  assert.deepEqual(c.layers, [32, 16, 8]);
  assert.equal(parseTrainConfig({ model: 'mf' }).dim, 32);
  assert.throws(() => parseTrainConfig({ model: 'gcn' }), /model/);
});
