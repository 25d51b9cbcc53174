/**
 * Federated Reconstruction deployed (server/strategies.ts 'fedrecon', client/works.ts): a few
 * rounds complete and the coordinator's model equals the in-process FedRecon simulation
 * (`runFedReconTraining`) with the same seed and plan — the coordinator plans the same round seeds
 * and samples the same clients, each client runs the engine's `runFedReconClient` with its own id
 * on the same data, updates fold in client-id order. Explicit MF (ratings, MSE) with a real
 * `fedrec serve` and `fedrec join` processes; implicit MF with an in-process coordinator and
 * in-process participants over real HTTP (for speed). Clients keep nothing between rounds, send no
 * user table (an update carrying one is refused), and reconstruct their user tables on the device
 * to recommend. Real SQLite files in temp folders; every process is killed in `after`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { userSplit } from '../data/split.js';
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset } from '../recipes/experiment.js';
import { allRows, federatedMeanRating, trainingClients } from '../federated/fedrecon-data.js';
import { runFedReconTraining } from '../recipes/fedrecon-experiment.js';
import { encodeMessage } from '../wire/codec.js';
import { roundInfoSchema } from '../wire/protocol.js';
import { readClientDataFile, writeFedReconClientFiles } from '../client/data-file.js';
import { HttpTransport } from '../client/http-transport.js';
import { toLocalData } from '../client/local-data.js';
import { recommendOnDevice } from '../client/node-client.js';
import { Participant } from '../client/participant.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { SqliteStore } from './sqlite-store.js';
import { issueToken } from './tokens.js';
import { Children, fetchModel, health, joinArgs, maxAbsDiff, prepareDeployment, serveProcess, tempDir, waitFor } from './testing.js';

const children = new Children();
const dirs: ReturnType<typeof tempDir>[] = [];
const servers: RunningCoordinator[] = [];
after(async () => {
  children.killAll();
  for (const s of servers) await s.close();
  for (const d of dirs) d.remove();
});

/** 12 synthetic users, half of them training users: 6 clients, 4 sampled per round. */
const SMALL = {
  syntheticUsers: 12, syntheticItems: 200, syntheticInteractions: 720, userSplit: [0.5, 0.25, 0.25],
  algorithm: 'fedrecon', dim: 8, rounds: 3, clientsPerRound: 4, seed: 13, eval: ['sampled'], k: [10], evalEvery: 1000,
};

test('explicit FedRecon: fedrec serve + 6 fedrec join processes, 3 rounds; the model equals the simulation', { timeout: 300_000 }, async () => {
  const dir = tempDir('fedrecon-explicit');
  dirs.push(dir);
  const training = { ...SMALL, feedback: 'explicit' };
  const c = parseTrainConfig(training);
  const ds = await loadConfiguredDataset(c);
  const clients = trainingClients(allRows(ds), userSplit(ds.nUsers, c.userSplit, c.seed).train);
  assert.equal(clients.length, 6);
  // The simulation starts the global bias at the federated mean rating; the operator supplies it.
  const coordinator = { minClients: 6, clientsPerRound: 4, roundDeadlineSeconds: 300, initialGlobalBias: federatedMeanRating(clients) };
  const d = await prepareDeployment(children, dir.path, training, coordinator, 6);
  assert.equal(d.files.length, 6, 'fedrec partition --algorithm fedrecon writes one file per training user');
  const { url } = await serveProcess(children, d.config, d.db);
  const joins = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(joins.map((j) => j.exited));
  assert.deepEqual(codes, joins.map(() => 0), joins.map((j) => j.stderr()).join('\n').slice(-3000));
  const h = await waitFor('the coordinator to finish', async () => ((await health(url)).done ? health(url) : undefined), 10_000);
  assert.equal(h.completedRounds, 3);
  const store = new SqliteStore(d.db);
  try {
    assert.deepEqual((await store.closedRounds()).map((r) => [r.round, r.clients]), [[1, 4], [2, 4], [3, 4]]);
  } finally {
    await store.close();
  }

  const model = await fetchModel(url, d.tokens[0]);
  const sim = await runFedReconTraining(c);
  const diff = maxAbsDiff(model.global, sim.global as Record<string, Float32Array>);
  process.stdout.write(`# explicit FedRecon: max |Δθ| coordinator vs simulation ${diff}\n`);
  assert.equal(model.version, 3);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);

  // On-device recommendations: the user table is reconstructed in the recommend process from its file.
  const out = await children.run(['recommend', '--server', url, '--token', d.tokens[1], '--data', d.files[1], '-k', '5', '--json']);
  const recs = JSON.parse(out) as { recommendations: { user: string; items: { item: string }[] }[] };
  assert.equal(recs.recommendations.length, 1);
  const own = new Set(readClientDataFile(d.files[1]).users[0].train);
  assert.equal(recs.recommendations[0].items.length, 5);
  assert.ok(recs.recommendations[0].items.every((i) => !own.has(i.item)), 'rated items are not recommended');
});

test('implicit FedRecon: in-process participants over HTTP; user tables are refused, never kept; the model equals the simulation', { timeout: 300_000 }, async () => {
  const dir = tempDir('fedrecon-implicit');
  dirs.push(dir);
  const training = { ...SMALL, feedback: 'implicit', loss: 'bce', negatives: 2 };
  const c = parseTrainConfig(training);
  const server = await startCoordinator({
    config: parseServerConfig({ training, coordinator: { minClients: 6, clientsPerRound: 4, roundDeadlineSeconds: 300 } }),
    dbPath: join(dir.path, 'c.db'),
    port: 0,
    buildBundle: false,
    logger: false,
  });
  servers.push(server);
  const tokens: string[] = [];
  for (let k = 0; k < 6; k++) tokens.push((await issueToken(server.store)).token);
  await server.coordinator.tick();
  const files = writeFedReconClientFiles(await loadConfiguredDataset(c), c.userSplit, c.seed, join(dir.path, 'clients'));
  assert.equal(files.length, 6);

  // The plan carries the reconstruction settings, validated by the wire schema.
  const infoRes = await fetch(`${server.url}/v1/round`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const info = roundInfoSchema.parse(await infoRes.json());
  assert.equal(info.status, 'train');
  if (info.status !== 'train') return;
  assert.equal(info.algorithm, 'fedrecon');
  assert.deepEqual(info.plan.fedrecon, {
    reconstruction: { optimizer: { kind: c.reconOptimizer, lr: c.reconLr }, epochs: c.reconEpochs, stepsMax: c.reconStepsMax },
    postReconstructionStepsMax: c.postReconStepsMax,
    split: c.reconSplit,
  });

  // An update carrying a user table is refused with a clear message and changes nothing.
  const selected = tokens[info.clientId]; // client 0, told to train in round 1
  const userEmb = new Float32Array(c.dim).fill(0.1);
  const bad = encodeMessage(
    {
      kind: 'update', round: 1, weight: 1, loss: 0,
      sections: [{ name: 'rows', dtype: 'i32', length: 0, role: 'index' }, { name: 'userEmb', dtype: 'f32', length: userEmb.length, role: 'dense' }],
    },
    [new Int32Array(0), userEmb],
  );
  const res = await fetch(`${server.url}/v1/update`, {
    method: 'POST',
    headers: { authorization: `Bearer ${selected}`, 'content-type': 'application/octet-stream' },
    body: bad as unknown as BodyInit,
  });
  const body = (await res.json()) as { error: string; message: string };
  assert.equal(res.status, 422, JSON.stringify(body));
  assert.equal(body.error, 'shape');
  assert.match(body.message, /'userEmb'.*local \(user\) table.*never sent/);
  assert.equal(server.coordinator.status().updatesInRound, 0);

  const participants = await Promise.all(tokens.map(async (token, k) => {
    const transport = new HttpTransport({ server: server.url, token });
    return new Participant(transport, await transport.catalogue(), toLocalData(readClientDataFile(files[k]).users, await transport.catalogue()));
  }));
  const states: unknown[] = [];
  const last = await Promise.all(participants.map((p) => p.run({
    maxDurationMs: 240_000,
    retry: { baseMs: 20, maxMs: 200 },
    onEvent: (e) => e.type === 'accepted' && states.push(p.state),
  })));
  assert.ok(last.every((i) => i.status === 'done'));
  assert.equal(server.coordinator.status().completedRounds, 3);
  assert.equal(states.length, 12, '4 clients × 3 rounds');
  assert.ok(states.every((s) => s === null), 'FedRecon clients keep nothing between rounds');

  const model = await fetchModel(server.url, tokens[0]);
  const sim = await runFedReconTraining(c);
  const diff = maxAbsDiff(model.global, sim.global as Record<string, Float32Array>);
  process.stdout.write(`# implicit FedRecon: max |Δθ| coordinator vs simulation ${diff}\n`);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);

  const recs = await recommendOnDevice({ server: server.url, token: tokens[2], dataFile: files[2], k: 5 });
  assert.equal(recs.length, 1);
  const own = new Set(readClientDataFile(files[2]).users[0].train);
  assert.equal(recs[0].items.length, 5);
  assert.ok(recs[0].items.every((i) => !own.has(i.item) && Number.isFinite(i.score)));
});
