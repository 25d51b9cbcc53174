/**
 * FedProx deployed (algorithms/fedprox.ts, served and run by name from the algorithm registry): a
 * `fedrec serve` process and 6 `fedrec join` processes complete 3 rounds, and the coordinator's model
 * equals the in-process simulation's (`runTraining`) with the same seed and plan: the plan carries
 * μ, every client runs the same client work with the proximal term, updates fold in client-id order.
 * Real SQLite file in a temp folder; every process is killed in `after`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { Children, fetchModel, health, joinArgs, maxAbsDiff, prepareDeployment, serveProcess, tempDir, waitFor } from './testing.js';

const children = new Children();
const dir = tempDir('fedprox');
after(() => {
  children.killAll();
  dir.remove();
});

test('FedProx: fedrec serve + 6 fedrec join processes, 3 rounds; the deployed model equals the simulation (max |Δθ| = 0)', { timeout: 300_000 }, async () => {
  const training = {
    syntheticUsers: 60, syntheticItems: 400, syntheticInteractions: 3000, usersPerClient: 10,
    algorithm: 'fedprox', proxMu: 0.1, dim: 8, rounds: 3, seed: 21, eval: ['sampled'], k: [10], evalEvery: 1000,
  };
  const d = await prepareDeployment(children, dir.path, training, { minClients: 6, roundDeadlineSeconds: 300 }, 6);
  assert.equal(d.files.length, 6);
  const { url } = await serveProcess(children, d.config, d.db);
  const joins = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(joins.map((j) => j.exited));
  assert.deepEqual(codes, joins.map(() => 0), joins.map((j) => j.stderr()).join('\n').slice(-3000));
  const h = await waitFor('the coordinator to finish', async () => ((await health(url)).done ? health(url) : undefined), 10_000);
  assert.equal(h.completedRounds, 3);

  const model = await fetchModel(url, d.tokens[0]);
  const sim = await runTraining(parseTrainConfig(training));
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# FedProx μ 0.1: max |Δθ| coordinator vs simulation ${diff}\n`);
  assert.equal(model.version, 3);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);
  // μ reaches the clients: the same deployment's simulation without the term is a different model
  const avg = await runTraining(parseTrainConfig({ ...training, proxMu: 0 }));
  assert.ok(maxAbsDiff(model.global, avg.model.params.global as Record<string, Float32Array>) > 0);
});
