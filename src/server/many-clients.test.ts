/**
 * `fedrec join --data-dir DIR --tokens FILE --concurrency N`: one process runs every client file as
 * its own participant, 3 at a time for 7 clients (so waiting participants must give up their
 * slots); the rounds close with all 7 and the model equals the simulation's; bad usage is one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { SqliteStore } from './sqlite-store.js';
import { Children, fetchModel, maxAbsDiff, prepareDeployment, serveProcess, tempDir } from './testing.js';

const children = new Children();
const dir = tempDir('many');
after(() => {
  children.killAll();
  dir.remove();
});

const TRAINING = { syntheticUsers: 100, syntheticItems: 600, syntheticInteractions: 4000, usersPerClient: 15, localEpochs: 1, seed: 11, eval: ['sampled'], k: [10], evalEvery: 1000, rounds: 3 };

test('one process, 7 client files, 3 at a time: every round has all 7 and the model equals the simulation', { timeout: 120_000 }, async () => {
  const d = await prepareDeployment(children, dir.path, TRAINING, { minClients: 7, roundDeadlineSeconds: 60, retryAfterMs: 100 }, 7);
  const tokens = writeFileTokens(d.tokens);
  const { url } = await serveProcess(children, d.config, d.db);
  const reports = join(dir.path, 'reports');
  const out = children.spawn(['join', '--server', url, '--data-dir', join(dir.path, 'clients'), '--tokens', tokens, '--concurrency', '3', '--report-dir', reports, '--state-dir', join(dir.path, 'state'), '--quiet']);
  assert.equal(await out.exited, 0, out.stderr());
  assert.match(out.stderr(), /7 clients sent 21 update\(s\); model version 3; on-device test HR@10 \d/);
  assert.equal(readdirSync(reports).filter((f) => f.endsWith('.report.json')).length, 7);
  assert.equal(readdirSync(join(dir.path, 'state')).length, 7, 'each participant keeps its own state file');
  const store = new SqliteStore(d.db);
  try {
    assert.deepEqual((await store.closedRounds()).map((r) => [r.round, r.clients]), [[1, 7], [2, 7], [3, 7]]);
  } finally {
    await store.close();
  }
  const simulated = (await runTraining(parseTrainConfig(TRAINING))).model.params.global as Record<string, Float32Array>;
  assert.equal(maxAbsDiff((await fetchModel(url, d.tokens[0])).global, simulated), 0);

  const few = join(dir.path, 'few-tokens');
  writeFileSync(few, d.tokens.slice(0, 2).join('\n'));
  const bad = children.spawn(['join', '--server', url, '--data-dir', join(dir.path, 'clients'), '--tokens', few]);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr(), /^fedrec join: 7 client files in .* but only 2 tokens: one token per file\n$/);
});

function writeFileTokens(tokens: readonly string[]): string {
  const path = join(dir.path, 'tokens.txt');
  writeFileSync(path, tokens.join('\n') + '\n');
  return path;
}
