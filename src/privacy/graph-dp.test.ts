/**
 * User-level DP for federated LightGCN / NCL (recipes/graph-federated.ts): the DpAggregator wraps
 * the graph FedAvg exactly as for MF — the result JSON carries the privacy block with ε from the
 * accountant, in central and distributed mode; the noise is dense (every item row moves); and
 * Poisson sampling picks the round's clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { epsilonOf } from './rdp-accountant.js';

const BASE = {
  syntheticUsers: 40, syntheticItems: 300, syntheticInteractions: 1200, usersPerClient: 1, dim: 8, mode: 'federated',
  rounds: 3, localEpochs: 1, seed: 11, eval: ['sampled'], k: [10], evalEvery: 1000, fraction: 0.5, dpDelta: 1e-3,
};

for (const model of ['lightgcn', 'ncl'] as const) {
  for (const dpMode of ['central', 'distributed'] as const) {
    test(`federated ${model}, ${dpMode} DP: the result reports ε; finite metrics; dense noise`, async () => {
      const c = parseTrainConfig({ ...BASE, model, dpClip: 0.5, dpNoiseMultiplier: 1, dpMode, ...(model === 'ncl' ? { warmUp: 1 } : {}) });
      const run = await runTraining(c);
      const p = run.result.privacy;
      assert.ok(p, 'privacy block');
      assert.equal(p.mode, dpMode);
      assert.equal(p.rounds, 3);
      assert.equal(p.clipNorm, 0.5);
      const expected = epsilonOf({ samplingRate: 0.5, noiseMultiplier: 1, rounds: 3, delta: 1e-3 }).epsilon;
      assert.ok(Math.abs((p.epsilon as number) - expected) < 1e-9 * expected, `ε ${p.epsilon} vs ${expected}`);
      const hr = run.result.metrics.test.sampled?.['HR@10'] as number;
      assert.ok(Number.isFinite(hr));
      assert.equal(run.result.selectedRound, 3, "under DP the last round's model is reported");
    });
  }
}

test('federated LightGCN under DP: noise moves every item row; the round ran on Poisson-sampled clients', async () => {
  const noised = await runTraining(parseTrainConfig({ ...BASE, model: 'lightgcn', rounds: 1, dpClip: 0.5, dpNoiseMultiplier: 1 }));
  const quiet = await runTraining(parseTrainConfig({ ...BASE, model: 'lightgcn', rounds: 1, dpClip: 0.5, dpNoiseMultiplier: 0 }));
  const a = noised.model.params.global.itemEmb as Float32Array;
  const b = quiet.model.params.global.itemEmb as Float32Array;
  let moved = 0;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) moved++;
  assert.equal(moved, a.length, 'dense noise on every entry');
  const sampled = quiet.result.history[0].clients as number;
  assert.ok(sampled > 0);
  assert.ok(Number.isFinite(noised.result.metrics.test.sampled?.['HR@10'] as number));
});
