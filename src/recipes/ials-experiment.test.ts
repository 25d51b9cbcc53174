/**
 * iALS runs through the ordinary `fedrec train` path: the defaults of `--model ials --mode central`
 * and `--algorithm ials`, the one-line refusals of configurations that cannot work, and small
 * synthetic runs (central and federated, float32 and 8-bit downloads) that rank far above chance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseTrainConfig } from '../config/config.js';
import { runTraining } from './experiment.js';

const SMALL = { syntheticUsers: 120, syntheticItems: 200, syntheticInteractions: 4000, dim: 16, eval: ['sampled'], k: [10], seed: 3 };

test('iALS defaults: --algorithm ials implies the model, --model ials federated implies the algorithm', () => {
  const fed = parseTrainConfig({ algorithm: 'ials' });
  assert.equal(fed.model, 'ials');
  assert.equal(fed.serverLr, 0.5);
  assert.equal(parseTrainConfig({ model: 'ials' }).algorithm, 'ials');
  const central = parseTrainConfig({ model: 'ials', mode: 'central' });
  assert.equal(central.algorithm, 'fedavg', 'central mode ignores the algorithm');
  assert.equal(central.l2, 0.01);
  assert.throws(() => parseTrainConfig({ model: 'ials', algorithm: 'fedavg' }), ConfigError);
  assert.throws(() => parseTrainConfig({ algorithm: 'ials', workers: 2 }), /one thread/);
  assert.throws(() => parseTrainConfig({ algorithm: 'ials', l2: 0 }), /l2 > 0/);
});

for (const raw of [
  { model: 'ials', mode: 'central', epochs: 4, evalEvery: 2 },
  { algorithm: 'ials', rounds: 6, evalEvery: 3 },
  { algorithm: 'ials', rounds: 6, evalEvery: 3, download: 'q8' },
]) {
  test(`iALS ${JSON.stringify(raw)}: test HR@10 far above random`, async () => {
    const { result, model } = await runTraining(parseTrainConfig({ ...SMALL, ...raw }));
    const hr = result.metrics.test.sampled?.['HR@10'] as number;
    const random = result.baselines.random.test?.sampled?.['HR@10'] as number;
    assert.equal(model.config.kind, 'ials');
    assert.ok(hr > random + 0.1, `HR@10 ${hr} vs random ${random}`);
    if (raw.mode !== 'central') assert.ok(result.history.every((h) => h.bytesUp > 0 && h.bytesDown > 0));
  });
}
