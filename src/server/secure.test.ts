/**
 * Secure aggregation deployed (server/secure-round.ts, client/secure-round.ts): an in-process
 * coordinator with `coordinator.secureAggregation` and 20 in-process participants over real HTTP
 * and a real SQLite file. The model after secure rounds equals the simulation folding the same
 * fixed-point ring sum (bit for bit) and the plain simulation within the fixed-point bound; 30 % of
 * the clients vanishing before each phase in turn still aggregates; more than n − t vanishing
 * aborts the round with the model unchanged and the next round proceeds; plain updates are refused;
 * /metrics, /healthz and the store say the rounds were secure; FedProx's secure rounds equal its
 * simulation too; nothing of an update is stored in the clear (the stored masked vectors do not
 * contain the encoded input).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runFedReconTraining } from '../recipes/fedrecon-experiment.js';
import { allRows, federatedMeanRating, trainingClients } from '../federated/fedrecon-data.js';
import { userSplit } from '../data/split.js';
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset, runTraining } from '../recipes/experiment.js';
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
};
const CLIENTS = 20;

async function deploy(name: string, training: Record<string, unknown>, secure: Record<string, unknown> | undefined, deadline = 120, extra: Record<string, unknown> = {}) {
  const dir = tempDir(`secure-${name}`);
  dirs.push(dir);
  const d = await deployInProcess(dir.path, training, { roundDeadlineSeconds: deadline, secureAggregation: secure, ...extra });
  servers.push(d.server);
  if (d.c.algorithm !== 'fedrecon') assert.equal(d.files.length, CLIENTS);
  return d;
}

const runAll = runParticipants;

test('secure FedAvg (MF), 20 clients, 2 rounds: the model equals the secure-sum simulation bit for bit, the plain one within the fixed-point bound', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('exact', TRAINING, { threshold: 0.6 });
  // a plain update is refused: updates arrive masked only
  const res = await fetch(`${server.url}/v1/update`, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(8) });
  assert.equal(res.status, 409);
  assert.equal(((await res.json()) as { error: string }).error, 'secure-round');

  const last = await runAll(participants);
  assert.ok(last.every((i) => i.status === 'done'));
  const model = await fetchModel(server.url, tokens[0]);
  const secureSim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  // the server sees only the sum, so it cannot apply MF's per-update row bound (docs/robustness.md):
  // the plain run compared with is the same run without it
  const plainSim = await runTraining({ ...c, rowShare: 0 });
  const exact = maxAbsDiff(model.global, secureSim.model.params.global as Record<string, Float32Array>);
  const plain = maxAbsDiff(model.global, plainSim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# secure deployed vs secure-sum simulation max |Δθ| ${exact}; vs plain simulation ${plain}\n`);
  assert.equal(exact, 0);
  assert.ok(plain < 1e-5, `plain vs secure ${plain}`);
  const secureHr = secureSim.result.metrics.test.sampled?.['HR@10'] as number;
  const plainHr = plainSim.result.metrics.test.sampled?.['HR@10'] as number;
  assert.ok(Math.abs(secureHr - plainHr) <= 0.01, `HR@10 secure ${secureHr} vs plain ${plainHr}`);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /fedrec_secure_aggregation 1/);
  assert.match(metrics, /fedrec_secure_rounds_total\{outcome="aggregated"\} 2/);
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { secure: boolean; completedRounds: number };
  assert.equal(health.secure, true);
  assert.equal(health.completedRounds, 2);
  assert.deepEqual(JSON.parse(await server.store.getMeta('secure-round/2') as string), { outcome: 'aggregated', contributors: 20, participants: 20, contributorIds: Array.from({ length: 20 }, (_, k) => k) });
});

test('secure FedProx (MF, μ 0.1), 20 clients, 2 rounds: the model equals the secure-sum simulation bit for bit', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('fedprox', { ...TRAINING, algorithm: 'fedprox', proxMu: 0.1 }, { threshold: 0.6 });
  const last = await runAll(participants);
  assert.ok(last.every((i) => i.status === 'done'));
  const model = await fetchModel(server.url, tokens[0]);
  const secureSim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  const fedAvgSim = await runTraining(parseTrainConfig(TRAINING), undefined, { secureSum: { clip: DEFAULT_CLIP } });
  const exact = maxAbsDiff(model.global, secureSim.model.params.global as Record<string, Float32Array>);
  process.stdout.write(`# secure FedProx deployed vs secure-sum simulation max |Δθ| ${exact}\n`);
  assert.equal(exact, 0);
  assert.ok(maxAbsDiff(model.global, fedAvgSim.model.params.global as Record<string, Float32Array>) > 0, 'μ reaches the clients');
});

for (const phase of ['keys', 'shares', 'masked', 'unmask'] as const) {
  test(`secure round: 6 of 20 clients (30 %) vanish before the ${phase} phase; the round aggregates`, { timeout: 120_000 }, async () => {
    const { server, participants } = await deploy(`drop-${phase}`, { ...TRAINING, rounds: 1 }, { threshold: 0.6, phaseSeconds: 8 }, 15);
    const last = await runAll(participants, (k) => (k % 10 < 3 ? phase : undefined));
    assert.ok(last.every((i) => i.status === 'done'));
    const outcome = JSON.parse(await server.store.getMeta('secure-round/1') as string) as { outcome: string; contributors: number };
    assert.equal(outcome.outcome, 'aggregated');
    // before 'unmask' the vanished clients' inputs are already in the sum
    assert.equal(outcome.contributors, phase === 'unmask' ? 20 : 14);
    assert.equal((await server.store.protocolMessages?.(1, 'masked'))?.length, 0, 'the round\'s messages are deleted with it');
  });
}

test('secure round: 9 of 20 vanish before masked input (t = 12): round 1 aborts with the model unchanged, round 2 aggregates', { timeout: 120_000 }, async () => {
  // an f16 download: the aborted round's version must reach the download too (else clients wait forever)
  const { server, tokens, participants } = await deploy('abort', { ...TRAINING, download: 'f16' }, { threshold: 0.6, phaseSeconds: 8 });
  const before = await fetchModel(server.url, tokens[0]);
  const last = await runAll(participants, (k, round) => (round === 1 && k < 9 ? 'masked' : undefined));
  assert.ok(last.every((i) => i.status === 'done'));
  assert.equal(JSON.parse(await server.store.getMeta('secure-round/1') as string).outcome, 'aborted');
  assert.equal(JSON.parse(await server.store.getMeta('secure-round/2') as string).outcome, 'aggregated', await server.store.getMeta('secure-round/2') ?? '');
  const closed = (await server.store.closedRounds());
  assert.deepEqual(closed.map((r) => r.clients), [0, 20]);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /fedrec_secure_rounds_total\{outcome="aborted"\} 1/);
  const after2 = await fetchModel(server.url, tokens[0]);
  assert.ok(maxAbsDiff(after2.global, before.global) > 0, 'round 2 changed the model');
});

test('secure NeuMF deployed equals the secure-sum simulation bit for bit', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('neumf', { ...TRAINING, model: 'neumf', rounds: 2 }, { threshold: 0.6 });
  await runAll(participants);
  const model = await fetchModel(server.url, tokens[0]);
  assert.equal(model.version, 2);
  const sim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  assert.equal(maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>), 0, 'NeuMF');
});

test('secure FedRecon (19 of 20 clients sampled per round) deployed equals the secure-sum simulation bit for bit, and the plain deployment', { timeout: 180_000 }, async () => {
  // 25 users, 80 % training users: 20 FedRecon clients, 19 sampled per round (the secure round's
  // participants are the sampled ones). Explicit feedback (FedRecon's default): the simulation starts
  // the global bias at the federated mean rating, the operator gives it as initialGlobalBias.
  const recon = { syntheticUsers: 25, syntheticItems: 400, syntheticInteractions: 900, algorithm: 'fedrecon', dim: 8, rounds: 2, clientsPerRound: 19, seed: 8, eval: ['sampled'], k: [10], evalEvery: 1000 };
  const c = parseTrainConfig(recon);
  const ds = await loadConfiguredDataset(c);
  const initialGlobalBias = federatedMeanRating(trainingClients(allRows(ds), userSplit(ds.nUsers, c.userSplit, c.seed).train));
  const secure = await deploy('fedrecon', recon, { threshold: 0.6 }, 120, { initialGlobalBias });
  await runAll(secure.participants);
  const plain = await deploy('fedrecon-plain', recon, undefined, 120, { initialGlobalBias });
  await runAll(plain.participants);
  const secureModel = await fetchModel(secure.server.url, secure.tokens[0]);
  const plainModel = await fetchModel(plain.server.url, plain.tokens[0]);
  assert.equal(secureModel.version, 2);
  assert.deepEqual(JSON.parse(await secure.server.store.getMeta('secure-round/2') as string).participants, 19);
  const sim = await runFedReconTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  const plainSim = await runFedReconTraining(c);
  const deployedVsSim = maxAbsDiff(secureModel.global, sim.global as Record<string, Float32Array>);
  process.stdout.write(`# FedRecon: secure deployed vs secure-sum simulation max |Δθ| ${deployedVsSim}; vs plain deployed ${maxAbsDiff(secureModel.global, plainModel.global)}; plain deployed vs plain simulation ${maxAbsDiff(plainModel.global, plainSim.global as Record<string, Float32Array>)}\n`);
  assert.equal(deployedVsSim, 0, 'FedRecon: secure deployed vs secure-sum simulation');
  assert.equal(maxAbsDiff(secureModel.global, plainModel.global), 0, 'FedRecon deployed: secure vs plain');
  assert.equal(maxAbsDiff(sim.global as Record<string, Float32Array>, plainSim.global as Record<string, Float32Array>), 0, 'FedRecon simulated: secure sum vs plain');
});

test('secure round: the coordinator stops mid-protocol (after the shares phase) and restarts on the same database; the round resumes and equals the simulation', { timeout: 180_000 }, async () => {
  const { c, server, tokens, participants } = await deploy('restart', { ...TRAINING, rounds: 1 }, { threshold: 0.6, phaseSeconds: 20 });
  const port = Number(new URL(server.url).port);
  const dbPath = join(dirs[dirs.length - 1].path, 'c.db');
  const running = runAll(participants);
  // wait until the shares phase has closed (the masked phase is open), then stop the coordinator
  for (let k = 0; k < 600; k++) {
    if (/fedrec_secure_phase 3/.test(await (await fetch(`${server.url}/metrics`)).text())) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.close();
  servers.splice(servers.indexOf(server), 1);
  const restarted = await startCoordinator({
    config: parseServerConfig({ training: { ...TRAINING, rounds: 1 }, coordinator: { minClients: CLIENTS, roundDeadlineSeconds: 120, tickMs: 50, retryAfterMs: 50, secureAggregation: { threshold: 0.6, phaseSeconds: 20 } } }),
    dbPath, port, buildBundle: false, logger: false,
  });
  servers.push(restarted);
  const last = await running;
  assert.ok(last.every((i) => i.status === 'done'));
  assert.equal(JSON.parse(await restarted.store.getMeta('secure-round/1') as string).outcome, 'aggregated');
  const model = await fetchModel(restarted.url, tokens[0]);
  const sim = await runTraining(c, undefined, { secureSum: { clip: DEFAULT_CLIP } });
  assert.equal(maxAbsDiff(model.global, sim.model.params.global as Record<string, Float32Array>), 0);
});
