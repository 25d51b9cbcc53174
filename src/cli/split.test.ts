/** `fedrec split` and `fedrec train --split-files` as a user runs them: real child processes and files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetBuilder } from '../data/builder.js';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut } from '../data/split.js';
import { writeNcf } from '../data/split-files-fixtures.js';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');
const data = ['--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000'];

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function trainJson(args: string[]): { metrics: unknown; baselines: unknown; selectedRound: number; config: Record<string, unknown>; dataset: Record<string, unknown> } {
  const r = fedrec(['train', ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('split then train --split-files reproduces the direct run exactly (federated MF and central NeuMF)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-split-cli-'));
  try {
    const s = fedrec(['split', ...data, '--out', join(dir, 'split')]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /^leave-one-out-time split of synthetic \(seed 42\): train \d+, validation 60, test 60 interactions; train\.tsv, .* written to /);
    for (const run of [['--rounds', '3', '--eval-every', '1'], ['--mode', 'central', '--model', 'neumf', '--epochs', '2', '--eval-every', '1']]) {
      const direct = trainJson([...data, ...run]);
      const files = trainJson(['--split-files', join(dir, 'split'), ...run]);
      assert.deepEqual(files.metrics, direct.metrics);
      assert.deepEqual(files.baselines, direct.baselines);
      assert.equal(files.selectedRound, direct.selectedRound);
      assert.deepEqual({ ...files.dataset, name: 'x' }, { ...direct.dataset, name: 'x' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --split-files evaluates NCF files; without validation it reports the last round and says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-ncf-cli-'));
  try {
    const src = generateSynthetic({ users: 50, items: 300, interactions: 1500, seed: 3 });
    const b = new DatasetBuilder('ncf');
    const { users, items, ratings, timestamps } = src.interactions;
    for (let k = 0; k < users.length; k++) b.add(String(users[k]), String(items[k]), ratings![k], timestamps![k]);
    const ds = b.build();
    writeNcf(dir, 'tiny', ds, leaveOneOut(ds, { seed: 1 }));
    const doc = trainJson(['--split-files', dir, '--rounds', '3', '--eval-every', '1', '--eval', 'sampled']) as ReturnType<typeof trainJson> & {
      metrics: { test: { sampled: Record<string, number> }; validation: unknown };
    };
    assert.equal(doc.dataset.name, 'tiny');
    assert.equal(doc.dataset.users, 50);
    assert.equal(doc.config.select, 'last');
    assert.equal(doc.selectedRound, 3);
    assert.deepEqual(doc.metrics.validation, {});
    assert.ok(doc.metrics.test.sampled['HR@10'] > 0 && doc.metrics.test.sampled['HR@10'] <= 1);

    // A broken file: one line naming file and line, exit 2, no stack trace.
    writeFileSync(join(dir, 'tiny.test.rating'), readFileSync(join(dir, 'tiny.test.rating'), 'utf8') + '7\tseven\t1\t1\n');
    const bad = fedrec(['train', '--split-files', dir, '--rounds', '1']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, "fedrec train: tiny.test.rating line 51: NCF item ids are 0-based integers, got 'seven'\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--split-files is refused with --data and with fedrecon; split needs --out', () => {
  const both = fedrec(['train', '--split-files', '/nonexistent', '--data', 'x.csv']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--split-files: give either --split-files \(a split folder\) or data, not both/);
  const recon = fedrec(['train', '--split-files', '/nonexistent', '--algorithm', 'fedrecon']);
  assert.equal(recon.status, 2);
  assert.match(recon.stderr, /fedrecon' evaluates unseen users/);
  const missing = fedrec(['train', '--split-files', '/nonexistent/split']);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, 'fedrec train: split: split folder not found\n');
  const noOut = fedrec(['split', ...data]);
  assert.equal(noOut.status, 2);
  assert.equal(noOut.stderr, 'fedrec split: --out DIR is required (the folder for the split files)\n');
});
