/**
 * Every user-facing failure of the `fedrec` command ends in one line naming what was wrong, exit
 * code 2 for usage/data errors, no stack trace (issue 21's list, one case each); `--debug` shows
 * the stack; output paths are checked before any training so a finished run is never lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');
const ml100k = resolve(fileURLToPath(import.meta.url), '../../../../shared/data/ml-100k');
const tiny = ['--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000', '--rounds', '2', '--k', '10', '--eval', 'sampled', '--quiet'];

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** A usage/data error: exit 2, one line on stderr that matches `pattern`, no stack trace. */
function refused(args: string[], pattern: RegExp): string {
  const r = fedrec(args);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !/^fedrec: .* \(\d[\dhms]*\)$/.test(l)); // status lines aside
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return lines[0];
}

test('an --out or --save path that cannot be written is refused before training; a missing folder is created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-out-'));
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  const r = fedrec(['train', ...tiny, '--quiet', '--out', join(file, 'd', 'result.json')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^fedrec train: --out: cannot create the folder .*plain-file is a file\n$/);
  refused(['train', ...tiny, '--save', dir], /--save: .* is a folder; give a file name inside it/);
  const nested = join(dir, 'new', 'deeper', 'result.json');
  const model = join(dir, 'models', 'm.fedrec');
  const ok = fedrec(['train', ...tiny, '--out', nested, '--save', model]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(JSON.parse(readFileSync(nested, 'utf8')).metrics.test);
  assert.ok(existsSync(model));
});

test('bad flags: did you mean, negative numbers, ranges and enums in flag names', () => {
  refused(['train', '--roundz', '3'], /^fedrec train: unknown flag --roundz; did you mean --rounds\?/);
  refused(['train', '--rounds', '-1'], /^fedrec train: --rounds: must be greater than 0, got -1$/);
  refused(['train', '--lr', '-0.5'], /--lr: must be greater than 0, got -0\.5$/);
  refused(['train', '--k', '0'], /^fedrec train: --k: must be greater than 0, got 0$/);
  refused(['train', '--k', '10,x'], /--k: expected comma-separated integers/);
  refused(['train', '--eval', 'sampled,fulll'], /--eval: expected one of sampled, full, got 'fulll'; did you mean full\?/);
  refused(['train', '--fraction', '2'], /--fraction: must be at most 1, got 2/);
  refused(['recommend', '--model-file'], /^fedrec recommend: --model-file needs a value$/);
  refused(['trian'], /^fedrec: unknown command 'trian'; did you mean train\?/);
  const once = refused(['recommend', '--user', '1'], /--model-file is required/);
  assert.doesNotMatch(once, /fedrec recommend: fedrec recommend/);
});

test('data and file errors name the flag or the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-data-'));
  refused(['train', '--columns', 'usr,item,rating,timestamp', '--data', join(dir, 'x.csv')], /--columns: unknown column role 'usr'; did you mean user\?/);
  refused(['train', '--format', 'ml-100k', '--sep', ',', '--data', join(dir, 'u.data')], /--sep describes a CSV\/TSV file; --format ml-100k has fixed columns/);
  const garbage = join(dir, 'garbage.fedrec');
  writeFileSync(garbage, 'not a model at all');
  refused(['recommend', '--model-file', garbage, '--user', '1'], /garbage\.fedrec: not a fedrec model file/);
  refused(['recommend', '--model-file', join(dir, 'absent.fedrec'), '--user', '1'], /absent\.fedrec: no such model file/);
  const three = join(dir, 'three.csv');
  writeFileSync(three, 'user,item,rating,timestamp\n1,2,5,100\n1,3,4,101\n2,2,3,102\n');
  refused(['train', '--data', three, '--rounds', '1', '--quiet'], /too few items to train: user 1 .* no item is left to sample as a training negative/);
  const pairs = join(dir, 'pairs.csv');
  writeFileSync(pairs, 'user,item\n1,2\n2,3\n');
  refused(['train', '--data', pairs, '--rating-threshold', '4', '--quiet'], /^fedrec train: pairs\.csv: a rating threshold \(4\) was given but the file has no rating column$/);
});

test('--data FOLDER --columns reads the folder\'s ratings file with those columns', { skip: !existsSync(join(ml100k, 'u.data')) && 'needs ../shared/data/ml-100k' }, () => {
  const r = fedrec(['train', '--data', ml100k, '--columns', 'user,item,rating,timestamp', '--rounds', '1', '--eval', 'sampled', '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).dataset.interactions, 100_000);
});

test('an unexpected failure is one line and exit 1; --debug shows the stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-debug-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"model": "mf",');
  const plain = refused(['train', '--config', bad], /bad\.json line 1: not valid JSON/);
  assert.ok(plain);
  const debug = fedrec(['train', '--config', bad, '--debug']);
  assert.equal(debug.status, 2);
  assert.match(debug.stderr, /\n\s+at /, '--debug prints the stack');
});
