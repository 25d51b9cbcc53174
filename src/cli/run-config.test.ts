/**
 * `fedrec train --config FILE`: JSON or YAML run settings, flags override them, a result JSON's
 * config repeats that run exactly; the result records the fedrec version, the selected round and
 * only the fields that apply to the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(root, 'bin/fedrec.js');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function json(args: string[]) {
  const r = fedrec([...args, '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a YAML or JSON run config is read, flags override it, and a result JSON repeats its run exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-config-'));
  const yaml = join(dir, 'run.yaml');
  writeFileSync(yaml, '# a small federated MF run\nmodel: mf\nrounds: 3\nevalEvery: 1\nsyntheticUsers: 60\nsyntheticItems: 300\nsyntheticInteractions: 2000\neval: [sampled]\nk: [10]\n');
  const first = json(['train', '--config', yaml, '--local-epochs', '1']);
  assert.equal(first.config.rounds, 3);
  assert.equal(first.config.localEpochs, 1, 'the flag overrides the file');
  assert.equal(first.fedrecVersion, version);
  assert.ok(first.selectedRound >= 1 && first.selectedRound <= 3);
  for (const ncl of ['sslTemp', 'sslReg', 'protoReg', 'clusters', 'gcnLayers', 'encoder', 'reconLr', 'userSplit', 'epochs', 'feedback']) {
    assert.ok(!(ncl in first.config), `an MF FedAvg run does not record ${ncl}`);
  }
  const result = join(dir, 'result.json');
  writeFileSync(result, JSON.stringify(first));
  const again = json(['train', '--config', result]);
  assert.deepEqual(again.config, first.config);
  assert.deepEqual(again.metrics, first.metrics);
  assert.equal(again.selectedRound, first.selectedRound);
  const jsonFile = join(dir, 'run.json');
  writeFileSync(jsonFile, JSON.stringify({ model: 'mf', mode: 'central', epochs: 1, syntheticUsers: 60, syntheticItems: 300, syntheticInteractions: 2000, eval: ['sampled'], k: [10] }));
  const central = json(['train', '--config', jsonFile]);
  assert.equal(central.config.mode, 'central');
  assert.ok(!('rounds' in central.config) && !('serverLr' in central.config), 'a central run records no federated fields');
  // Changing the model by flag drops the file's fields that no longer apply.
  const ncl = json(['train', '--config', jsonFile, '--model', 'lightgcn']);
  assert.equal(ncl.config.model, 'lightgcn');
  assert.ok(!('loss' in ncl.config));
});

test('a bad config file is one line naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-config-'));
  const cases: [string, string, RegExp][] = [
    ['typo.yaml', 'model: mf\nroundz: 3\n', /unknown field roundz in typo\.yaml; did you mean rounds\?/],
    ['scope.yaml', 'model: mf\nsslTemp: 0.2\n', /sslTemp in scope\.yaml applies to model ncl; this run is model mf/],
    ['range.json', '{"rounds": 0}', /rounds in range\.json: must be greater than 0, got 0/],
    ['broken.yaml', 'model: [mf\n', /broken\.yaml line \d+: not valid YAML/],
    ['list.json', '[1, 2]', /list\.json: expected an object of run settings/],
  ];
  for (const [name, text, pattern] of cases) {
    writeFileSync(join(dir, name), text);
    const r = fedrec(['train', '--config', join(dir, name)]);
    assert.equal(r.status, 2, name);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const missing = fedrec(['train', '--config', join(dir, 'absent.yaml')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /absent\.yaml: no such config file/);
});
