/**
 * Graph aggregation deployed (src/algorithms/graph.ts, graph-device.ts): text-graph with
 * `algorithm 'graph'` on a real coordinator (SQLite file, HTTP) with in-process participants over
 * HTTP, each holding one synthetic user and its text description, encoded on the device with the
 * hashing encoder. After 2 rounds the coordinator is closed and started again on the same database
 * (the per-user sketches, personal rows and the server Adam state come back from the checkpoint);
 * 2 more rounds follow. The coordinator's θ and head, and every client's personal rows (GET
 * /v1/personal), equal the simulation's (`runTextGraphTraining`) bit for bit. Updates without user
 * uploads, or with a user index beyond usersPerClient, are refused with one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredSplit, runTraining } from '../recipes/experiment.js';
import { runTextGraphTraining } from '../recipes/text-graph-experiment.js';
import { userTexts } from '../text/user-text.js';
import { encodeUpdate } from '../wire/messages.js';
import { roundInfoSchema } from '../wire/protocol.js';
import { readClientDataFile, writeClientFiles } from '../client/data-file.js';
import { HttpTransport } from '../client/http-transport.js';
import { toLocalData } from '../client/local-data.js';
import { Participant } from '../client/participant.js';
import { recommendOnDevice } from '../client/node-client.js';
import { decodePersonal } from '../algorithms/graph-device.js';
import { parseServerConfig } from './config.js';
import { deployInProcess, runParticipants } from './in-process-deployment.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { Children, fetchModel, joinArgs, maxAbsDiff, prepareDeployment, serveProcess, tempDir, writeJson } from './testing.js';

const dirs: ReturnType<typeof tempDir>[] = [];
const servers: RunningCoordinator[] = [];
const children = new Children();
after(async () => {
  children.killAll();
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

test('text-graph graph aggregation: coordinator + 8 participants over HTTP, restart after round 2; θ, head and personal rows equal the simulation', { timeout: 240_000 }, async () => {
  const dir = tempDir('graph-deploy');
  dirs.push(dir);
  const training = {
    syntheticUsers: 8, syntheticItems: 400, syntheticInteractions: 480, model: 'text-graph', algorithm: 'graph', encoder: 'hash',
    dim: 8, layers: [8], rounds: 4, clientsPerRound: 6, neighbors: 3, seed: 11, eval: ['sampled'], k: [10], evalEvery: 1000,
    cacheDir: join(dir.path, 'cache'),
  };
  const c = parseTrainConfig(training);
  const { dataset, split } = await loadConfiguredSplit(c);
  const files = writeClientFiles(dataset, split, 1, c.seed, join(dir.path, 'clients'), userTexts(dataset));
  assert.equal(files.length, 8);
  const start = async (rounds: number) => {
    const server = await startCoordinator({
      config: parseServerConfig({ training: { ...training, rounds }, coordinator: { minClients: 8, clientsPerRound: 6, roundDeadlineSeconds: 300 } }),
      dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false, logger: false,
    });
    servers.push(server);
    return server;
  };

  let server = await start(2);
  const tokens: string[] = [];
  for (const _ of files) tokens.push((await issueToken(server.store)).token);
  await server.coordinator.tick();
  const res = await fetch(`${server.url}/v1/round`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const info = roundInfoSchema.parse(await res.json());
  assert.equal(info.status, 'train');
  if (info.status !== 'train') return;
  assert.equal(info.algorithm, 'graph');
  assert.equal(info.plan.model.kind, 'text-graph');
  assert.deepEqual((info.plan as Record<string, unknown>).textGraph, {
    model: { textDim: 256, dim: 8, layers: [8], lambda: c.lambda, dot: true, recentItems: c.recentItems },
    optimizer: { kind: c.optimizer, lr: c.lr, weightDecay: c.l2 }, dpLaplace: 0, encoder: { kind: 'hash', seed: 11 }, initSeed: 11,
  });

  // An update without user uploads is refused in one line (the head deltas alone are not graph aggregation).
  const selected = tokens[info.clientId];
  const post = (body: Uint8Array) => fetch(`${server.url}/v1/update`, { method: 'POST', headers: { authorization: `Bearer ${selected}`, 'content-type': 'application/octet-stream' }, body: body as unknown as BodyInit });
  const model0 = await fetchModel(server.url, selected);
  const zeros = Object.fromEntries(Object.entries(model0.global).filter(([n]) => n !== 'item').map(([n, t]) => [n, new Float32Array(t.length)]));
  const bare = await post(encodeUpdate({ round: 1, weight: 1, loss: 0, rows: new Int32Array(0), itemTables: { item: new Float32Array(0) }, denseTables: zeros }));
  const bareBody = (await bare.json()) as { error: string; message: string };
  assert.equal(bare.status, 422, JSON.stringify(bareBody));
  assert.match(bareBody.message, /users' uploads/);
  const user = { user: 1, weightVector: new Float32Array(256 * 8), rows: new Int32Array([3]), itemRows: new Float32Array(8), weight: 1 };
  const wrongUser = await post(encodeUpdate({ round: 1, weight: 1, loss: 0, rows: new Int32Array(0), itemTables: { item: new Float32Array(0) }, denseTables: zeros, users: [user] } as never));
  const wrongBody = (await wrongUser.json()) as { error: string; message: string };
  assert.equal(wrongUser.status, 422);
  assert.equal(wrongBody.error, 'index');
  assert.match(wrongBody.message, /users\.id\[0\] = 1 is outside \[0, 1\)/);
  assert.equal(server.coordinator.status().updatesInRound, 0);

  const join_ = async (url: string, k: number) => {
    const transport = new HttpTransport({ server: url, token: tokens[k] });
    const catalogue = await transport.catalogue();
    return new Participant(transport, catalogue, toLocalData(readClientDataFile(files[k]).users, catalogue));
  };
  const runAll = (ps: Participant[]) => Promise.all(ps.map((p) => p.run({ maxDurationMs: 200_000, retry: { baseMs: 20, maxMs: 200 } })));
  const first = await Promise.all(files.map((_, k) => join_(server.url, k)));
  await runAll(first);
  assert.equal(server.coordinator.status().completedRounds, 2);
  await server.close();

  // Restart on the same database: the per-user state comes back from the checkpoint.
  server = await start(4);
  const second = await Promise.all(files.map((_, k) => join_(server.url, k)));
  second.forEach((p, k) => (p.state = first[k].state)); // each device keeps its joint layer
  const last = await runAll(second);
  assert.ok(last.every((i) => i.status === 'done'));
  assert.equal(server.coordinator.status().completedRounds, 4);

  const model = await fetchModel(server.url, tokens[0]);
  const sim = await runTextGraphTraining(c);
  const diff = maxAbsDiff(model.global, sim.global as Record<string, Float32Array>);
  let personalDiff = 0;
  let personalRows = 0;
  for (let k = 0; k < files.length; k++) {
    const res = await fetch(`${server.url}/v1/personal`, { headers: { authorization: `Bearer ${tokens[k]}` } });
    assert.equal(res.headers.get('x-fedrec-model-version'), '4');
    const mine = decodePersonal(new Uint8Array(await res.arrayBuffer()), 8).get(0) ?? null;
    const expected = sim.personal?.(k) ?? null; // one user per client: client k holds dense user k
    assert.equal(mine === null, expected === null, `client ${k}: personal rows present on one side only`);
    if (!mine || !expected) continue;
    assert.deepEqual([...mine.rows], [...expected.rows]);
    personalRows += mine.rows.length;
    for (let j = 0; j < mine.delta.length; j++) personalDiff = Math.max(personalDiff, Math.abs(mine.delta[j] - expected.delta[j]));
  }
  process.stdout.write(`# text-graph graph aggregation: max |Δθ| coordinator vs simulation ${diff}; personal rows ${personalRows}, max |ΔΔ_u| ${personalDiff}\n`);
  assert.equal(model.version, 4);
  assert.deepEqual(Object.keys(model.global).sort(), Object.keys(sim.global).sort());
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);
  assert.ok(personalRows > 0);
  assert.equal(personalDiff, 0, `the deployed personal rows differ from the simulation's by ${personalDiff}`);
});

// User-level DP: the coordinator draws its noise from the CSPRNG unless told otherwise (server/config.ts);
// a bit-for-bit comparison needs the simulation's seeded noise, hence dpNoise 'seeded'.
const DP = { dpClip: 0.5, dpNoiseMultiplier: 1, dpDelta: 1e-3, fraction: 0.5, dpNoise: 'seeded' };
const GRAPH_CASES: readonly { model: 'lightgcn' | 'ncl'; dp: Record<string, unknown> | null }[] = [
  { model: 'lightgcn', dp: null },
  { model: 'ncl', dp: null },
  { model: 'lightgcn', dp: { ...DP, dpMode: 'central' } },
  { model: 'lightgcn', dp: { ...DP, dpMode: 'distributed' } },
  { model: 'ncl', dp: { ...DP, dpMode: 'distributed' } },
];
for (const { model, dp } of GRAPH_CASES) {
  test(`federated ${model}${dp ? ` with ${dp.dpMode} user-level DP` : ''}: coordinator + 6 participants over HTTP, 3 rounds; the item table equals the simulation`, { timeout: 240_000 }, async () => {
    const dir = tempDir(`${model}-deploy`);
    dirs.push(dir);
    const training = {
      syntheticUsers: 6, syntheticItems: 400, syntheticInteractions: 360, model, mode: 'federated', split: 'loo',
      dim: 8, gcnLayers: 2, rounds: 3, seed: 17, eval: ['sampled'], k: [10], evalEvery: 1000, select: 'last',
      ...(dp ?? { clientsPerRound: 4 }),
      ...(model === 'ncl' ? { clusters: 4, warmUp: 1, kmeansIterations: 5 } : {}),
    };
    const { c, server, tokens, participants, files } = await deployInProcess(dir.path, training, { roundDeadlineSeconds: 300 });
    servers.push(server);
    assert.equal(files.length, 6);
    const last = await runParticipants(participants, undefined, 200_000);
    assert.ok(last.every((i) => i.status === 'done'));
    const info = last[0];
    if (info.status === 'done') {
      assert.equal(info.algorithm, 'lightgcn');
      assert.equal(info.plan.model.kind, model);
    }
    assert.equal(server.coordinator.status().completedRounds, 3);

    const deployed = await fetchModel(server.url, tokens[0]);
    const sim = await runTraining(c);
    const diff = maxAbsDiff(deployed.global, { itemEmb: sim.model.params.global.itemEmb });
    process.stdout.write(`# federated ${model}${dp ? ` (${dp.dpMode} DP)` : ''}: max |Δθ| coordinator vs simulation ${diff}\n`);
    assert.deepEqual(Object.keys(deployed.global), ['itemEmb']);
    assert.equal(diff, 0, `the deployed item table differs from the simulation's by ${diff}`);
    if (dp) {
      const spent = server.coordinator.privacy();
      assert.equal(spent?.mode, dp.dpMode);
      assert.equal(spent?.epsilon, sim.result.privacy?.epsilon, 'the coordinator charges the simulation\'s ε');
    }

    // On-device recommendations: ū from the device's ego-graph, nothing uploaded.
    const recs = await recommendOnDevice({ server: server.url, token: tokens[1], dataFile: files[1], k: 5 });
    assert.equal(recs.length, 1);
    assert.equal(recs[0].items.length, 5);
    assert.ok(recs[0].items.every((i) => Number.isFinite(i.score)));
  });
}

test('fedrec serve refuses a combination that cannot deploy in one line (exit 2, no stack trace)', { timeout: 120_000 }, async () => {
  const dir = tempDir('graph-refuse');
  dirs.push(dir);
  const data = { syntheticUsers: 20, syntheticItems: 300, syntheticInteractions: 600 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ algorithm: 'fedavg', model: 'text-graph' }, /algorithm 'fedavg' with model 'text-graph' cannot be deployed .*graph with model text-graph/],
    [{ algorithm: 'graph', model: 'text-graph', encoder: 'transformers' }, /training\.encoder 'transformers' cannot be deployed/],
    [{ algorithm: 'graph', model: 'text-graph', encoder: 'hash', textAblation: 'random' }, /textAblation 'random' cannot be deployed/],
    [{ model: 'lightgcn', mode: 'federated', download: 'q8' }, /download 'q8': federated lightgcn deploys with float32 downloads only/],
  ];
  for (const [k, [training, message]] of cases.entries()) {
    const config = writeJson(join(dir.path, `c${k}.json`), { training: { ...data, ...training }, coordinator: {} });
    const child = children.spawn(['serve', '--config', config, '--db', join(dir.path, `c${k}.db`), '--port', '0']);
    const code = await child.exited;
    const lines = child.stderr().trim().split('\n');
    assert.equal(code, 2, child.stderr());
    assert.equal(lines.length, 1, child.stderr());
    assert.match(lines[0], message);
  }
});

test('text-graph graph aggregation with fedrec serve + 4 fedrec join processes (texts from fedrec partition --model text-graph): the model equals the simulation', { timeout: 240_000 }, async () => {
  const dir = tempDir('graph-cli');
  dirs.push(dir);
  process.env.FEDREC_CACHE = join(dir.path, 'cache'); // the join processes' encoder cache
  const training = {
    syntheticUsers: 4, syntheticItems: 400, syntheticInteractions: 240, model: 'text-graph', algorithm: 'graph', encoder: 'hash',
    dim: 8, layers: [8], rounds: 2, neighbors: 2, seed: 3, eval: ['sampled'], k: [10], evalEvery: 1000, cacheDir: join(dir.path, 'sim-cache'),
  };
  const d = await prepareDeployment(children, dir.path, training, { minClients: 4, roundDeadlineSeconds: 300 }, 4);
  assert.equal(d.files.length, 4);
  assert.ok(readClientDataFile(d.files[0]).users.every((u) => typeof u.text === 'string' && u.text.length > 0), 'fedrec partition writes each user its text');
  const { url } = await serveProcess(children, d.config, d.db);
  const joins = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(joins.map((j) => j.exited));
  assert.deepEqual(codes, joins.map(() => 0), joins.map((j) => j.stderr()).join('\n').slice(-3000));
  const model = await fetchModel(url, d.tokens[0]);
  const sim = await runTextGraphTraining(parseTrainConfig(training));
  const diff = maxAbsDiff(model.global, sim.global as Record<string, Float32Array>);
  process.stdout.write(`# text-graph via fedrec serve + fedrec join: max |Δθ| ${diff}\n`);
  assert.equal(model.version, 2);
  assert.equal(diff, 0, `the deployed model differs from the simulation's by ${diff}`);
});
