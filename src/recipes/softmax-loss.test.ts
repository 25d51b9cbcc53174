/** `--loss softmax` end to end on small synthetic data: federated runs agree across worker counts, FedRecon refuses it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from './experiment.js';

const small = { syntheticUsers: 60, syntheticItems: 300, syntheticInteractions: 2000, eval: ['sampled'], k: [10], loss: 'softmax', negatives: 4 };

test('sampled softmax trains federated, the same with one or two workers, and beats chance', async () => {
  const cfg = { ...small, rounds: 3, evalEvery: 1, seed: 3 };
  const one = await runTraining(parseTrainConfig(cfg));
  const two = await runTraining(parseTrainConfig({ ...cfg, workers: 2 }));
  assert.deepEqual(one.result.metrics, two.result.metrics);
  const losses = one.result.history.map((h) => h.loss);
  assert.ok(losses[0] < Math.log(5) && losses[2] < losses[0], `losses ${losses}`);
});

test('sampled softmax trains centrally; FedRecon refuses it', async () => {
  const central = await runTraining(parseTrainConfig({ ...small, mode: 'central', epochs: 2, evalEvery: 1 }));
  assert.equal(central.result.config.loss, 'softmax');
  assert.throws(() => parseTrainConfig({ ...small, algorithm: 'fedrecon' }), /loss 'softmax'.*not with algorithm 'fedrecon'/);
});
