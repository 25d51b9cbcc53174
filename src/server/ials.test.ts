/**
 * Federated iALS deployed (server/strategies.ts 'ials', client/works.ts): a `fedrec serve` process
 * and 6 `fedrec join` processes complete 3 rounds on synthetic data, and the coordinator's model
 * equals the in-process simulation (`fedrec train --algorithm ials`) bit for bit: the devices solve
 * their user factors with the same code on the same item factors, updates fold in client-id order.
 * The plan carries the iALS objective; devices keep nothing between rounds, send no user table, and
 * score with user factors solved on the device (their on-device HR@10 equals the simulation's).
 * With an 8-bit download (wire/quantize.ts) the simulation hands its clients the same dequantised
 * item factors, so the two still agree exactly.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { roundInfoSchema } from '../wire/protocol.js';
import { Children, combinedHr, fetchModel, health, joinArgs, maxAbsDiff, prepareDeployment, serveProcess, tempDir, waitFor } from './testing.js';

const children = new Children();
const dirs: ReturnType<typeof tempDir>[] = [];
after(() => {
  children.killAll();
  for (const d of dirs) d.remove();
});

for (const download of ['f32', 'q8'] as const) test(`federated iALS, ${download} download: fedrec serve + 6 fedrec join processes, 3 rounds; the model equals the simulation`, { timeout: 300_000 }, async () => {
  const dir = tempDir(`ials-${download}`);
  dirs.push(dir);
  const training = {
    syntheticUsers: 60, syntheticItems: 150, syntheticInteractions: 1500, usersPerClient: 10,
    algorithm: 'ials', dim: 8, rounds: 3, seed: 5, recencyWindow: 5, recencyWeight: 2, eval: ['sampled'], k: [10], evalEvery: 1000, download,
  };
  const c = parseTrainConfig(training);
  const d = await prepareDeployment(children, dir.path, training, { minClients: 6, roundDeadlineSeconds: 300 }, 6);
  assert.equal(d.files.length, 6);
  const { url } = await serveProcess(children, d.config, d.db);

  const res = await fetch(`${url}/v1/round`, { headers: { authorization: `Bearer ${d.tokens[0]}` } });
  const info = roundInfoSchema.parse(await res.json());
  assert.equal(info.status, 'train');
  if (info.status !== 'train') return;
  assert.equal(info.algorithm, 'ials');
  assert.deepEqual(info.plan.ials, { unobservedWeight: c.unobservedWeight, reg: c.l2, regExponent: c.regExponent });
  assert.equal(info.plan.model.kind, 'ials');

  const joins = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(joins.map((j) => j.exited));
  assert.deepEqual(codes, joins.map(() => 0), joins.map((j) => j.stderr()).join('\n').slice(-3000));
  const h = await waitFor('the coordinator to finish', async () => ((await health(url)).done ? health(url) : undefined), 10_000);
  assert.equal(h.completedRounds, 3);

  const model = await fetchModel(url, d.tokens[0]);
  const sim = await runTraining({ ...c, select: 'last' });
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  const deployed = await combinedHr(d, d.files.map((_, k) => k));
  const simulated = sim.result.metrics.test.sampled?.['HR@10'] as number;
  process.stdout.write(`# federated iALS (${download}): max |Δθ| coordinator vs simulation ${diff}; on-device HR@10 ${deployed.toFixed(4)}, simulated ${simulated.toFixed(4)}\n`);
  assert.equal(model.version, 3);
  assert.deepEqual(Object.keys(model.global).sort(), ['itemEmb', 'userGramian']);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);
  assert.ok(Math.abs(deployed - simulated) < 1e-9, `on-device HR@10 ${deployed} vs simulated ${simulated}`);
});
