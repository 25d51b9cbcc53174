/**
 * Faults with real processes on 127.0.0.1: 30 % of clients never answering (each round closes at
 * its deadline with the quorum), a client killed mid-round (never counted; the rest go on), and the
 * coordinator SIGKILLed mid-round and restarted on the same database (the open round resumes with
 * the updates it had accepted; no round lost or counted twice — the final model equals the
 * in-process simulation's).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { SqliteStore } from './sqlite-store.js';
import { Children, fetchModel, health, joinArgs, maxAbsDiff, prepareDeployment, serveProcess, tempDir, waitFor, type Deployment } from './testing.js';

const children = new Children();
const dirs: ReturnType<typeof tempDir>[] = [];
after(() => {
  children.killAll();
  for (const d of dirs) d.remove();
});

/** 100 synthetic users in 7 clients of 15. */
const TRAINING = { syntheticUsers: 100, syntheticItems: 600, syntheticInteractions: 4000, usersPerClient: 15, localEpochs: 1, seed: 11, eval: ['sampled'], k: [10], evalEvery: 1000 };

async function closedRounds(d: Deployment): Promise<{ round: number; clients: number }[]> {
  const store = new SqliteStore(d.db);
  try {
    return (await store.closedRounds()).map((r) => ({ round: r.round, clients: r.clients }));
  } finally {
    await store.close();
  }
}

async function simulatedModel(rounds: number): Promise<Record<string, Float32Array>> {
  const run = await runTraining(parseTrainConfig({ ...TRAINING, rounds }));
  return run.model.params.global as Record<string, Float32Array>;
}

test('30 % of clients never answer: every round closes at its deadline with the quorum', { timeout: 240_000 }, async () => {
  const dir = tempDir('silent');
  dirs.push(dir);
  const training = { ...TRAINING, rounds: 3 };
  const d = await prepareDeployment(children, dir.path, training, { minClients: 7, roundDeadlineSeconds: 1.5 }, 10);
  assert.equal(d.files.length, 7);
  const { url, child: server } = await serveProcess(children, d.config, d.db);
  const clients = d.files.map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  const codes = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(codes, clients.map(() => 0), clients.map((c) => c.stderr()).join('\n').slice(-2000));
  assert.deepEqual(await closedRounds(d), [1, 2, 3].map((round) => ({ round, clients: 7 })));
  assert.match(server.stdout(), /deadline with quorum \(7 of 10\)/);
  const model = await fetchModel(url, d.tokens[0]);
  assert.equal(maxAbsDiff(model.global, await simulatedModel(3)), 0, 'the 7 answering clients trained exactly the simulated model');
});

test('a client killed mid-round is not counted; the others finish', { timeout: 240_000 }, async () => {
  const dir = tempDir('killed');
  dirs.push(dir);
  const d = await prepareDeployment(children, dir.path, { ...TRAINING, rounds: 2 }, { minClients: 6, roundDeadlineSeconds: 2 }, 7);
  const { url } = await serveProcess(children, d.config, d.db);
  const victim = children.spawn(joinArgs(d, url, 6, ['--pause-before-submit-ms', '120000']));
  const others = d.files.slice(0, 6).map((_, k) => children.spawn(joinArgs(d, url, k, ['--quiet'])));
  await waitFor('the victim to hold a trained, unsent update', () => /round 1: trained/.test(victim.stderr()), 60_000);
  await waitFor('the six others to send round 1', async () => (await health(url)).updatesInRound >= 6 || (await health(url)).completedRounds >= 1, 60_000);
  victim.process.kill('SIGKILL');
  const codes = await Promise.all(others.map((c) => c.exited));
  assert.deepEqual(codes, others.map(() => 0), others.map((c) => c.stderr()).join('\n').slice(-2000));
  assert.deepEqual(await closedRounds(d), [{ round: 1, clients: 6 }, { round: 2, clients: 6 }]);
  assert.equal((await health(url)).done, true);
});

test('coordinator SIGKILLed mid-round and restarted: no round lost or counted twice', { timeout: 240_000 }, async () => {
  const dir = tempDir('crash');
  dirs.push(dir);
  const training = { ...TRAINING, rounds: 3 };
  // 8 tokens, 7 clients: every round waits for its deadline, so there is time to kill it mid-round.
  const d = await prepareDeployment(children, dir.path, training, { minClients: 7, roundDeadlineSeconds: 3 }, 8);
  const first = await serveProcess(children, d.config, d.db);
  const port = new URL(first.url).port;
  const clients = d.files.map((_, k) => children.spawn(joinArgs(d, first.url, k)));
  await waitFor('round 2 to have some updates', async () => {
    const gone = clients.find((c) => c.process.exitCode !== null);
    if (gone) throw new Error(`a client exited early: ${gone.stderr().slice(-1500)}`);
    const h = await health(first.url);
    return h.openRound === 2 && h.updatesInRound >= 3;
  }, 90_000, 20);
  first.child.process.kill('SIGKILL');
  await first.child.exited;
  const before = await closedRounds(d);
  assert.deepEqual(before, [{ round: 1, clients: 7 }], 'only round 1 was complete at the kill');
  const second = await serveProcess(children, d.config, d.db, Number(port));
  const codes = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(codes, clients.map(() => 0), clients.map((c) => c.stderr()).join('\n').slice(-3000));
  assert.ok(clients.some((c) => /retry \d+ in/.test(c.stderr())), 'clients retried while the coordinator was down');
  assert.deepEqual(await closedRounds(d), [1, 2, 3].map((round) => ({ round, clients: 7 })));
  const model = await fetchModel(second.url, d.tokens[0]);
  assert.equal(model.version, 3);
  assert.equal(maxAbsDiff(model.global, await simulatedModel(3)), 0, 'the model equals an uninterrupted (simulated) run');
});
