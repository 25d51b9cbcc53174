/**
 * User-level DP in deployment (privacy/dp-fedavg.ts, docs/privacy.md):
 *  - distributed mode, `fedrec serve` + 8 `fedrec join` processes: the coordinator Poisson-samples
 *    its registered clients, each device clips its update and adds its noise share itself (seeded
 *    noise here, so the run is reproducible), and the final model equals the in-process simulation's;
 *  - central mode in process: the coordinator's /metrics exposes ε spent, and with an ε budget it
 *    refuses to open the round that would exceed it, with one log line naming ε and the budget.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { encodeUpdate } from '../wire/messages.js';
import { parseServerConfig } from './config.js';
import { startCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { Children, fetchModel, health, joinArgs, maxAbsDiff, ml100k, prepareDeployment, serveProcess, tempDir, waitFor } from './testing.js';

const children = new Children();
const dir = tempDir('dp');
after(() => {
  children.killAll();
  dir.remove();
});

test('distributed DP, 8 client processes, Poisson sampling: the deployed model equals the simulation\'s', { timeout: 300_000 }, async () => {
  const data = ml100k();
  const training = {
    ...(data ? { data } : {}), rounds: 3, usersPerClient: 118, localEpochs: 1, seed: 42, eval: ['sampled'], k: [10], evalEvery: 1000,
    dpClip: 0.5, dpNoiseMultiplier: 0.8, dpMode: 'distributed', dpDelta: 1e-3, fraction: 0.6, dpNoise: 'seeded',
  };
  const d = await prepareDeployment(children, join(dir.path, 'e2e'), training, { minClients: 8, roundDeadlineSeconds: 120 }, 8);
  assert.equal(d.files.length, 8);
  const { url } = await serveProcess(children, d.config, d.db);
  const clients = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(codes, clients.map(() => 0), clients.map((c) => c.stderr()).join('\n').slice(-3000));
  const h = await waitFor('the coordinator to finish', async () => ((await health(url)).done ? health(url) : undefined), 10_000);
  assert.equal(h.completedRounds, 3);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const spent = Number(/^fedrec_dp_epsilon_spent ([\d.e+-]+)$/m.exec(metrics)?.[1]);
  const expected = epsilonOf({ samplingRate: 0.6, noiseMultiplier: 0.8, rounds: 3, delta: 1e-3 }).epsilon;
  assert.ok(Math.abs(spent - expected) < 1e-9 * expected, `/metrics ε ${spent} vs accountant ${expected}`);

  const sim = await runTraining(parseTrainConfig(training));
  assert.equal(sim.result.privacy?.mode, 'distributed');
  assert.ok(Math.abs((sim.result.privacy?.epsilon as number) - expected) < 1e-9 * expected);
  const model = await fetchModel(url, d.tokens[0]);
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# distributed DP: max |Δθ| deployed vs simulated ${diff}, ε ${spent.toFixed(3)}\n`);
  assert.ok(diff <= 1e-4, `final global model differs from the simulation's by ${diff}`);
});

test('central DP coordinator: /metrics shows ε spent; an ε budget stops it before the round that would exceed it', { timeout: 60_000 }, async () => {
  const DIM = 8;
  const rounds1 = epsilonOf({ samplingRate: 1, noiseMultiplier: 2, rounds: 2, delta: 1e-5 }).epsilon;
  const rounds2 = epsilonOf({ samplingRate: 1, noiseMultiplier: 2, rounds: 3, delta: 1e-5 }).epsilon;
  const budget = (rounds1 + rounds2) / 2; // two rounds fit, three do not
  const config = parseServerConfig({
    training: { syntheticUsers: 30, syntheticItems: 120, syntheticInteractions: 900, dim: DIM, rounds: 5, seed: 7, dpClip: 1, dpNoiseMultiplier: 2, dpDelta: 1e-5, fraction: 1 },
    coordinator: { minClients: 2, roundDeadlineSeconds: 600, dpEpsilonBudget: budget },
  });
  assert.equal(config.training.dpNoise, 'secure', 'a coordinator draws its noise from the CSPRNG by default');
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const server = await startCoordinator({ config, dbPath: join(dir.path, 'central.db'), port: 0, buildBundle: false, logger: { level: 'info', stream } });
  try {
    const tokens = await Promise.all([0, 1].map(async () => (await issueToken(server.store)).token));
    const rows = Int32Array.from([0, 3, 7]);
    for (let round = 1; round <= 2; round++) {
      await waitFor(`round ${round} to open`, async () => (((await (await fetch(`${server.url}/healthz`)).json()) as { openRound: number | null }).openRound === round ? true : undefined), 10_000);
      for (const token of tokens) {
        const body = encodeUpdate({ round, weight: 10, loss: 0.5, rows, itemTables: { itemEmb: new Float32Array(rows.length * DIM).fill(0.5), itemBias: new Float32Array(3).fill(0.5) }, denseTables: { globalBias: Float32Array.of(0.1) } });
        const res = await fetch(`${server.url}/v1/update`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` }, body: body as unknown as BodyInit });
        assert.equal(res.status, 200, await res.text());
      }
    }
    const h = await waitFor('the budget to end training', async () => {
      const s = (await (await fetch(`${server.url}/healthz`)).json()) as { done: boolean; completedRounds: number };
      return s.done ? s : undefined;
    }, 10_000);
    assert.equal(h.completedRounds, 2);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const spent = Number(/^fedrec_dp_epsilon_spent ([\d.e+-]+)$/m.exec(metrics)?.[1]);
    assert.ok(Math.abs(spent - rounds1) < 1e-9 * rounds1, `/metrics ε ${spent} vs ${rounds1}`);
    const refusal = lines.filter((l) => l.includes('DP budget'));
    assert.equal(refusal.length, 1, 'one log line');
    assert.match(refusal[0], /round 3 not opened: it would bring ε to [\d.]+ .*over the budget/);
    // the noise is dense: every item row moved, not only the 3 rows the clients touched
    const model = await fetchModel(server.url, tokens[0]);
    const untouched = model.global.itemBias.filter((_, r) => r !== 0 && r !== 3 && r !== 7);
    assert.ok(untouched.every((v) => v !== 0) && untouched.length > 100);
  } finally {
    await server.close();
  }
});

test('DP configuration errors are one clear line', () => {
  const bad = (training: Record<string, unknown>, coordinator: Record<string, unknown> = {}) => assert.throws(() => parseServerConfig({ training, coordinator }, 'c.json'));
  bad({ dpClip: 1, dpNoiseMultiplier: 1 }); // no δ
  bad({ dpNoiseMultiplier: 1 }); // no clip
  bad({ dpClip: 1, dpDelta: 1e-5, clientsPerRound: 5 }); // fixed-size sampling
  bad({}, { dpEpsilonBudget: 1 }); // budget without DP
  bad({ dpClip: 1, dpDelta: 1e-5, dpMode: 'distributed' }, { normBound: 5 });
  bad({ dpClip: 1, dpDelta: 1e-5 }, { clientsPerRound: 3 });
  assert.throws(() => parseServerConfig({ training: { dpClip: 1, dpNoiseMultiplier: 0.5, dpDelta: 1e-5 }, coordinator: { dpEpsilonBudget: 0.1 } }, 'c.json'), /below the ε of a single round/);
  assert.throws(() => parseServerConfig({ training: { dpClip: 1, dpNoiseMultiplier: 1 } }, 'c.json'), /training.dpDelta is required/);
});
