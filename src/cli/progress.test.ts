/**
 * Progress without a terminal: a status line before training (data loading), then one line per
 * evaluated round with elapsed time and ETA; the summary is narrow by default (HR/NDCG at the first
 * K, test and validation, the selected round) and complete with --full-table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { duration } from './progress.js';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');
const tiny = ['--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000', '--rounds', '4', '--eval-every', '2'];

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('durations read as a person would say them', () => {
  assert.equal(duration(4.4), '4s');
  assert.equal(duration(75), '1m15s');
  assert.equal(duration(3 * 3600 + 120), '3h02m');
  assert.equal(duration(NaN), '?');
});

test('without a terminal: a line while data loads, one line per evaluated round with elapsed and ETA', () => {
  const r = fedrec(['train', ...tiny]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^fedrec: generating the synthetic data set \(\d+s\)$/);
  const rounds = lines.filter((l) => /^fedrec: round /.test(l));
  assert.deepEqual(rounds.map((l) => /round (\d+)\/4/.exec(l)?.[1]), ['2', '4'], 'rounds 2 and 4 are evaluated');
  for (const l of rounds) assert.match(l, /loss \d\.\d{4}  val HR@10 \d\.\d{4} NDCG@10 \d\.\d{4}  \d+s elapsed, ETA \d+s$/);
  assert.equal(fedrec(['train', ...tiny, '--quiet']).stderr, '', '--quiet prints nothing on stderr');
});

test('the summary is narrow by default and full with --full-table', () => {
  const narrow = fedrec(['train', ...tiny, '--quiet', '--k', '5,10,20']);
  assert.equal(narrow.status, 0, narrow.stderr);
  const width = Math.max(...narrow.stdout.split('\n').filter((l) => /^[┌│└├]/.test(l)).map((l) => l.length));
  assert.ok(width <= 80, `narrow table ${width} characters wide`);
  assert.match(narrow.stdout, /metrics of round [1-4] \(best validation\)/);
  assert.match(narrow.stdout, /test HR@5 .* val NDCG@5/);
  assert.doesNotMatch(narrow.stdout, /HR@20/);
  const full = fedrec(['train', ...tiny, '--quiet', '--k', '5,10,20', '--split', 'ratio:0.8,0.1,0.1', '--full-table']);
  assert.match(full.stdout, /sampled HR@20/);
  assert.match(full.stdout, /full NDCG@20/);
});
