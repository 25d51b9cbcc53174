/**
 * Distributed DP under secure aggregation, deployed (privacy/secure-dp.ts): an in-process
 * coordinator with `coordinator.secureAggregation` and distributed DP, 20 in-process participants
 * over real HTTP and a real SQLite file. Each device clips its update, adds its seeded noise share and
 * encodes it in fixed point; the coordinator unmasks the sum and applies it without adding noise. The
 * model equals the secure + DP simulation bit for bit (FedProx's too), /metrics shows ε charged at
 * z·√τ; 30 % of the clients vanishing before the masked input still aggregates (above the floor);
 * central DP and a fixed-point range too narrow for the noise are refused with one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTraining } from '../recipes/experiment.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { DEFAULT_CLIP } from '../secagg/settings.js';
import { parseServerConfig } from './config.js';
import { deployInProcess, runParticipants } from './in-process-deployment.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { fetchModel, maxAbsDiff, tempDir } from './testing.js';

const servers: RunningCoordinator[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) d.remove();
});

const TRAINING = {
  syntheticUsers: 60, syntheticItems: 400, syntheticInteractions: 1800, usersPerClient: 3, dim: 8,
  rounds: 2, localEpochs: 1, seed: 5, eval: ['sampled'], k: [10], evalEvery: 1000,
  dpClip: 0.5, dpNoiseMultiplier: 0.8, dpMode: 'distributed', dpDelta: 1e-3, fraction: 0.9, dpNoise: 'seeded',
};

async function deploy(name: string, training: Record<string, unknown>, secure: Record<string, unknown>, deadline = 120) {
  const dir = tempDir(`secure-dp-${name}`);
  dirs.push(dir);
  const d = await deployInProcess(dir.path, training, { roundDeadlineSeconds: deadline, secureAggregation: secure });
  servers.push(d.server);
  return d;
}

const runAll = runParticipants;

test('secure aggregation + distributed DP, 20 clients, Poisson q 0.9, 2 rounds: the model equals the simulation bit for bit; ε at z·√τ', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('exact', TRAINING, { threshold: 0.6 });
  const last = await runAll(participants);
  assert.ok(last.every((i) => i.status === 'done'));
  const model = await fetchModel(server.url, tokens[0]);
  const sim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP, threshold: 0.6 } });
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# secure + distributed DP deployed vs simulated max |Δθ| ${diff}; ε ${sim.result.privacy?.epsilon}\n`);
  assert.equal(diff, 0);
  const expected = epsilonOf({ samplingRate: 0.9, noiseMultiplier: 0.8 * Math.sqrt(0.6), rounds: 2, delta: 1e-3 }).epsilon;
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const spent = Number(/^fedrec_dp_epsilon_spent ([\d.e+-]+)$/m.exec(metrics)?.[1]);
  assert.ok(Math.abs(spent - expected) < 1e-9 * expected, `/metrics ε ${spent} vs ${expected}`);
  assert.ok(Math.abs((sim.result.privacy?.epsilon as number) - expected) < 1e-9 * expected);
  assert.match(metrics, /fedrec_secure_rounds_total\{outcome="aggregated"\} 2/);
});

test('FedProx (μ 0.1) with distributed DP under secure aggregation: the deployed model equals the simulation bit for bit', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('fedprox', { ...TRAINING, algorithm: 'fedprox', proxMu: 0.1 }, { threshold: 0.6 });
  const last = await runAll(participants);
  assert.ok(last.every((i) => i.status === 'done'));
  const model = await fetchModel(server.url, tokens[0]);
  const sim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP, threshold: 0.6 } });
  const diff = maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# FedProx + secure + distributed DP deployed vs simulated max |Δθ| ${diff}\n`);
  assert.equal(diff, 0);
  assert.equal(sim.result.privacy?.mode, 'distributed');
});

test('secure + distributed DP: 6 of 20 clients (30 %) vanish before the masked input; the round aggregates above the floor', { timeout: 120_000 }, async () => {
  const { server, tokens, participants } = await deploy('drop', { ...TRAINING, rounds: 1, fraction: 1 }, { threshold: 0.6, phaseSeconds: 8 }, 15);
  const before = await fetchModel(server.url, tokens[0]);
  const last = await runAll(participants, (k) => (k % 10 < 3 ? 'masked' : undefined));
  assert.ok(last.every((i) => i.status === 'done'));
  const outcome = JSON.parse(await server.store.getMeta('secure-round/1') as string) as { outcome: string; contributors: number };
  assert.deepEqual(outcome, { outcome: 'aggregated', contributors: 14, participants: 20, contributorIds: Array.from({ length: 20 }, (_, k) => k).filter((k) => k % 10 >= 3) });
  const after1 = await fetchModel(server.url, tokens[0]);
  assert.ok(maxAbsDiff(after1.global, before.global) > 0);
});

test('DP with secure aggregation: central mode and a fixed-point range narrower than the noise are refused with one line', () => {
  assert.throws(
    () => parseServerConfig({ training: { dpClip: 1, dpNoiseMultiplier: 1, dpDelta: 1e-5 }, coordinator: { secureAggregation: { threshold: 0.6 } } }, 'c.json'),
    /c.json: coordinator.secureAggregation with training.dpMode 'central'.*use training.dpMode 'distributed'/,
  );
  const dir = tempDir('secure-dp-config');
  dirs.push(dir);
  const config = parseServerConfig({ training: { ...TRAINING, dpClip: 1, dpNoiseMultiplier: 2 }, coordinator: { secureAggregation: { threshold: 0.6, clip: 10 } } });
  return assert.rejects(
    startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false, logger: false }),
    /secureAggregation.clip 10 is below the range of a noised DP value, dpClip·\(1 \+ 9·dpNoiseMultiplier\) = 19/,
  );
});
