/**
 * End to end on 127.0.0.1: a `fedrec serve` process and 20 `fedrec join` processes, each holding its
 * share of the ML-100K users (synthetic data of the same shape when ../shared/data is absent),
 * complete 5 rounds. The final HR@10 — computed by the clients on their devices and combined —
 * matches the in-process simulation with the same seed and plan: the coordinator plans the same
 * round seeds and folds updates in client-id order, each client runs the engine's
 * `runClientRound` with its own id, so the two runs compute the same model.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { Children, combinedHr, fetchModel, health, joinArgs, maxAbsDiff, ml100k, prepareDeployment, serveProcess, tempDir, waitFor } from './testing.js';

const children = new Children();
const dir = tempDir('e2e');
after(() => {
  children.killAll();
  dir.remove();
});

test('20 client processes, 5 rounds: HR@10 matches the in-process simulation', { timeout: 480_000 }, async () => {
  const data = ml100k();
  const training = { ...(data ? { data } : {}), rounds: 5, usersPerClient: 48, localEpochs: 2, seed: 42, eval: ['sampled'], k: [10], evalEvery: 1000 };
  const d = await prepareDeployment(children, dir.path, training, { minClients: 20, roundDeadlineSeconds: 300 }, 20);
  assert.equal(d.files.length, 20, '943 users / 48 per client = 20 clients');
  const { url } = await serveProcess(children, d.config, d.db);
  const clients = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(codes, clients.map(() => 0), clients.map((c) => c.stderr()).join('\n').slice(-3000));
  const h = await waitFor('the coordinator to finish', async () => ((await health(url)).done ? health(url) : undefined), 10_000);
  assert.equal(h.completedRounds, 5);

  const deployed = await combinedHr(d, d.files.map((_, k) => k));
  const sim = await runTraining(parseTrainConfig(training));
  const simulated = sim.result.metrics.test.sampled?.['HR@10'] as number;
  const model = await fetchModel(url, d.tokens[0]);
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# deployed HR@10 ${deployed.toFixed(4)}, simulated ${simulated.toFixed(4)}, max |Δθ| ${diff}\n`);
  assert.ok(Math.abs(deployed - simulated) <= 0.02, `deployed HR@10 ${deployed} vs simulated ${simulated}`);
  assert.ok(diff <= 1e-4, `final global model differs from the simulation's by ${diff}`);

  // On-device top-K from the coordinator's model (fedrec recommend --server): nothing is uploaded.
  const out = await children.run(['recommend', '--server', url, '--token', d.tokens[0], '--data', d.files[0], '-k', '5', '--json']);
  const recs = JSON.parse(out) as { recommendations: { user: string; items: { item: string; title: string }[] }[] };
  assert.equal(recs.recommendations.length, 48);
  assert.ok(recs.recommendations.every((r) => r.items.length === 5 && r.items.every((i) => i.title.length > 0)));
});
