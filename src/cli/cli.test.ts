/** The `fedrec` command as a user runs it: a real child process, real files, exit codes and messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');
const tiny = ['--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000', '--rounds', '2', '--k', '10', '--eval', 'sampled'];

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('train --json prints only the EVALUATION.md result document', () => {
  const r = fedrec(['train', ...tiny, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc).sort(), ['baselines', 'config', 'dataset', 'fedrecVersion', 'history', 'metrics', 'selectedRound', 'timing']);
  for (const part of ['test', 'validation']) {
    for (const key of ['HR@10', 'NDCG@10', 'MRR@10', 'MAP@10', 'Recall@10', 'Precision@10']) {
      assert.equal(typeof doc.metrics[part].sampled[key], 'number', `${part} ${key}`);
    }
  }
  assert.equal(typeof doc.baselines.popularity.test.sampled['HR@10'], 'number');
  assert.equal(typeof doc.baselines.random.test.sampled['HR@10'], 'number');
  assert.equal(doc.history.length, 2);
  assert.ok(doc.history[0].bytesUp > 0 && doc.history[0].bytesDown > 0);
  assert.equal(doc.dataset.name, 'synthetic');
  assert.equal(doc.config.algorithm, 'fedavg');
});

test('train --out and --save write whole files; recommend reads the model back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-cli-'));
  const out = join(dir, 'result.json');
  const model = join(dir, 'model.fedrec');
  const r = fedrec(['train', ...tiny, '--out', out, '--save', model]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /test HR@10/); // the summary table
  assert.ok(JSON.parse(readFileSync(out, 'utf8')).metrics.test);
  assert.deepEqual(readdirSync(dir).sort(), ['model.fedrec', 'result.json']); // no temp files left
  const rec = fedrec(['recommend', '--model-file', model, '--user', '7', '-k', '5', '--json']);
  assert.equal(rec.status, 0, rec.stderr);
  const doc = JSON.parse(rec.stdout);
  assert.equal(doc.recommendations.length, 5);
  const scores = doc.recommendations.map((x: { score: number }) => x.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
  const missing = fedrec(['recommend', '--model-file', model, '--user', 'nobody']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /user 'nobody' is not in the model/);
});

test('unknown flags and bad values are errors that say what is allowed', () => {
  const unknown = fedrec(['train', '--rounds', '2', '--colour', 'red']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown flag --colour/);
  assert.match(unknown.stderr, /--help lists every flag/);
  const notNumber = fedrec(['train', '--rounds', 'many']);
  assert.equal(notNumber.status, 2);
  assert.match(notNumber.stderr, /--rounds: expected an integer, got 'many'/);
  const badEnum = fedrec(['train', '--model', 'svd']);
  assert.equal(badEnum.status, 2);
  assert.match(badEnum.stderr, /--model: expected one of mf, neumf/);
  const both = fedrec(['train', '--fraction', '0.5', '--clients-per-round', '3']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /either --clients-per-round or --fraction/);
  const badSplit = fedrec(['train', '--split', 'half']);
  assert.equal(badSplit.status, 2);
  assert.match(badSplit.stderr, /--split: expected 'loo' or 'ratio:/);
  const command = fedrec(['fly']);
  assert.equal(command.status, 2);
  assert.match(command.stderr, /unknown command 'fly'/);
});

test("--layers none trains the text-graph head without hidden layers; NeuMF refuses it", () => {
  const r = fedrec(['train', ...tiny, '--model', 'text-graph', '--encoder', 'hash', '--layers', 'none', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.config.layers, []);
  assert.equal(doc.config.algorithm, 'graph');
  assert.ok(Number.isFinite(doc.metrics.test.sampled['HR@10']));
  const neumf = fedrec(['train', '--model', 'neumf', '--layers', 'none']);
  assert.equal(neumf.status, 2);
  assert.match(neumf.stderr, /--layers: NeuMF needs at least one MLP layer/);
});

test('--recent-items trains the text-graph model with the recent-items term; other models refuse it', () => {
  const r = fedrec(['train', ...tiny, '--model', 'text-graph', '--encoder', 'hash', '--recent-items', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.config.recentItems, 5);
  assert.ok(Number.isFinite(doc.metrics.test.sampled['HR@10']));
  const mf = fedrec(['train', '--model', 'mf', '--recent-items', '5']);
  assert.equal(mf.status, 2);
  assert.match(mf.stderr, /--recent-items applies to model text-graph; this run is model mf/);
});

test('--test-history: test reads train by default; train+validation is a protocol option, refused where it cannot apply', () => {
  const run = (extra: string[]) => {
    const r = fedrec(['train', ...tiny, '--model', 'text-graph', '--encoder', 'hash', '--lr', '0.5', '--eval-every', '1', '--json', ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const train = run([]);
  const seen = run(['--test-history', 'train+validation']);
  assert.equal(train.config.testHistory, 'train');
  assert.equal(seen.config.testHistory, 'train+validation');
  assert.deepEqual(train.metrics.validation, seen.metrics.validation);
  assert.deepEqual(train.history.map((h: { loss: number }) => h.loss), seen.history.map((h: { loss: number }) => h.loss), 'training is the same');
  assert.notDeepEqual(train.metrics.test, seen.metrics.test);
  assert.notDeepEqual(train.baselines.popularity.test, seen.baselines.popularity.test, 'popularity reads the same history');
  assert.deepEqual(train.baselines.popularity.validation, seen.baselines.popularity.validation);
  const mf = fedrec(['train', '--model', 'mf', '--test-history', 'train+validation']);
  assert.equal(mf.status, 2);
  assert.match(mf.stderr, /--test-history: 'train\+validation' applies only to a model that reads a history at test/);
  const ratio = fedrec(['train', ...tiny, '--model', 'text-graph', '--encoder', 'hash', '--split', 'ratio:0.8,0.1,0.1', '--test-history', 'train+validation']);
  assert.equal(ratio.status, 2);
  assert.match(ratio.stderr, /needs leave-one-out by time .* this split is ratio\n$/);
  const bad = fedrec(['train', '--model', 'text-graph', '--test-history', 'all']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--test-history: expected one of train, train\+validation, got 'all'/);
});

test('a malformed data file is an error naming the file and the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-cli-'));
  const file = join(dir, 'ratings.tsv');
  writeFileSync(file, '1\t10\t5\t100\n2\t11\t4\n');
  const r = fedrec(['train', '--data', file, '--columns', 'user,item,rating,timestamp', '--sep', '\t']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ratings\.tsv line 2/);
  const none = fedrec(['train', '--data', join(dir, 'absent.csv')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /absent\.csv/);
  assert.ok(!existsSync(join(dir, 'result.json')));
});

test('the MF server defences: on by default, --no-center-items / --row-share 0 turn them off, refused where they cannot apply', () => {
  const on = JSON.parse(fedrec(['train', ...tiny, '--json']).stdout);
  assert.equal(on.config.centerItems, true);
  assert.equal(on.config.rowShare, 0.17);
  const off = fedrec(['train', ...tiny, '--no-center-items', '--row-share', '0', '--json']);
  assert.equal(off.status, 0, off.stderr);
  const doc = JSON.parse(off.stdout);
  assert.equal(doc.config.centerItems, false);
  assert.equal(doc.config.rowShare, 0);
  const neumf = fedrec(['train', '--model', 'neumf', '--no-center-items']);
  assert.equal(neumf.status, 2);
  assert.match(neumf.stderr, /^fedrec train: --no-center-items applies to .*model mf; this run is model neumf/m);
});

test('synthetic sizes that cannot fit: one usage line, exit 2', () => {
  const r = fedrec(['train', '--synthetic-users', '50', '--rounds', '1']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--synthetic-interactions\): interactions must be an integer in \[250, 50450\] for 50 users and 1682 items, got 100000/);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
});
