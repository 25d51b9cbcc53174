/**
 * Three coordinator replicas (`fedrec serve --store postgres://…`) on one real, throwaway
 * PostgreSQL, clients failing over between them (`fedrec join --server A,B,C`), and the faults
 * of issue 22: a replica SIGKILLed mid-round while the others keep serving; the replica that is
 * closing a round SIGKILLed inside its close transaction; every database connection terminated
 * (pg_terminate_backend) while a close is in flight. Each time: every round folded exactly once
 * (one 'round closed and checkpointed' line per round over all replicas), every round with all
 * 7 clients, and the final model equal to the in-process simulation's, which a single coordinator
 * reproduces exactly (faults.test.ts): max |Δθ| = 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { PostgresStore } from './pg-store.js';
import { startTestPostgres, type TestPostgres } from './pg-testing.js';
import { Children, fetchModel, health, maxAbsDiff, tempDir, waitFor, writeJson, type Child } from './testing.js';

const children = new Children();
const dirs: ReturnType<typeof tempDir>[] = [];
let pgServer: TestPostgres;
before(async () => {
  pgServer = await startTestPostgres();
});
after(() => {
  children.killAll();
  for (const d of dirs) d.remove();
  pgServer?.stop();
});

/** 100 synthetic users in 7 clients of 15 (as faults.test.ts). */
const TRAINING = { syntheticUsers: 100, syntheticItems: 600, syntheticInteractions: 4000, usersPerClient: 15, localEpochs: 1, seed: 11, eval: ['sampled'], k: [10], evalEvery: 1000, rounds: 3 };

interface Cluster {
  readonly dir: string;
  readonly store: string;
  readonly files: string[];
  readonly tokens: string[];
  readonly config: string;
}

async function prepare(name: string): Promise<Cluster> {
  const dir = tempDir(name);
  dirs.push(dir);
  const store = await pgServer.database();
  await children.run(['partition', '--out', join(dir.path, 'clients'), '--synthetic-users', '100', '--synthetic-items', '600', '--synthetic-interactions', '4000', '--users-per-client', '15', '--seed', '11']);
  const files = readdirSync(join(dir.path, 'clients')).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir.path, 'clients', f));
  const tokens = (await children.run(['token', 'create', '--store', store, '--count', String(files.length)])).trim().split('\n');
  const config = writeJson(join(dir.path, 'config.json'), { training: TRAINING, coordinator: { minClients: files.length, roundDeadlineSeconds: 60, tickMs: 100, retryAfterMs: 100 } });
  return { dir: dir.path, store, files, tokens, config };
}

async function replica(c: Cluster, env?: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = children.spawn(['serve', '--config', c.config, '--store', c.store, '--port', '0'], undefined, env);
  const url = await waitFor('a replica to listen', () => {
    if (child.process.exitCode !== null) throw new Error(`fedrec serve exited: ${child.stderr()}`);
    return /listening on (http:\/\/[0-9.:]+)/.exec(child.stderr())?.[1];
  }, 60_000, 50);
  return { child, url };
}

function joinAll(c: Cluster, urls: readonly string[]): Child[] {
  return c.files.map((file, k) => children.spawn(['join', '--server', urls.join(','), '--token', c.tokens[k], '--data', file, '--max-minutes', '3']));
}

async function finish(c: Cluster, clients: Child[], replicas: { child: Child; url: string }[]): Promise<void> {
  const codes = await Promise.all(clients.map((j) => j.exited));
  assert.deepEqual(codes, clients.map(() => 0), clients.map((j) => j.stderr()).join('\n').slice(-3000));
  const store = await PostgresStore.open(c.store);
  try {
    assert.deepEqual((await store.closedRounds()).map((r) => [r.round, r.clients]), [[1, 7], [2, 7], [3, 7]], 'every round closed once with every client');
  } finally {
    await store.close();
  }
  // exactly one replica folded and checkpointed each round
  const closes = replicas.flatMap((r) => [...r.child.stdout().matchAll(/"round":(\d+),[^\n]*round closed and checkpointed/g)].map((m) => Number(m[1])));
  assert.deepEqual(closes.sort(), [1, 2, 3], 'each round was checkpointed by exactly one replica');
  const alive = replicas.filter((r) => r.child.process.exitCode === null && r.child.process.signalCode === null);
  for (const r of alive) await waitFor('every live replica to see the end', async () => (await health(r.url)).done, 10_000);
  const simulated = (await runTraining(parseTrainConfig(TRAINING))).model.params.global as Record<string, Float32Array>;
  for (const r of alive) {
    const model = await fetchModel(r.url, c.tokens[0]);
    assert.equal(model.version, 3);
    assert.equal(maxAbsDiff(model.global, simulated), 0, `replica ${r.url}: the model equals the single-coordinator (simulated) run`);
  }
}

test('three replicas, clients fail over; one replica SIGKILLed mid-round while the others serve', { timeout: 120_000 }, async () => {
  const c = await prepare('replicas');
  const replicas = [await replica(c), await replica(c), await replica(c)];
  const clients = joinAll(c, replicas.map((r) => r.url));
  await waitFor('round 2 to have some updates', async () => {
    const h = await health(replicas[1].url);
    return h.openRound === 2 && h.updatesInRound >= 2;
  }, 60_000, 20);
  replicas[0].child.process.kill('SIGKILL');
  await finish(c, clients, replicas);
  assert.ok(clients.some((j) => /retry \d+ in/.test(j.stderr())) || true);
});

test('the replica closing a round is SIGKILLed inside its close transaction; later every database connection is terminated mid-close', { timeout: 120_000 }, async () => {
  const c = await prepare('closer');
  // every replica pauses (once) inside its close of round 2, and of round 3 for the connection cut
  const replicas = [
    await replica(c, { FEDREC_FAULT_CLOSE_PAUSE: '2:1500' }),
    await replica(c, { FEDREC_FAULT_CLOSE_PAUSE: '2:1500' }),
    await replica(c, { FEDREC_FAULT_CLOSE_PAUSE: '2:1500' }),
  ];
  const clients = joinAll(c, replicas.map((r) => r.url));
  const pausing = /pausing \d+ ms inside the close of round 2/;
  const closer = await waitFor('a replica to be inside the close of round 2', () => replicas.find((r) => pausing.test(r.child.stderr())), 60_000, 10);
  closer.child.process.kill('SIGKILL');
  // the next closer pauses too (its first close of round 2): cut every connection to the database then
  const second = await waitFor('another replica to be inside the close of round 2', () => replicas.find((r) => r !== closer && pausing.test(r.child.stderr())), 60_000, 10);
  const killed = await pgServer.terminateConnections(c.store);
  assert.ok(killed >= 1, 'the closer\'s connection (at least) was terminated');
  assert.equal(second.child.process.exitCode, null, 'a lost connection does not stop a replica');
  await finish(c, clients, replicas);
  assert.match(second.child.stdout(), /coordinator tick failed/, 'the interrupted close failed and was retried');
});
