import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetBuilder } from './builder.js';
import { generateSynthetic } from './synthetic.js';
import { leaveOneOut, ratioSplit } from './split.js';
import { readSplitFiles, writeSplitFiles } from './split-files.js';
import { writeNcf } from './split-files-fixtures.js';
import type { Dataset, ImplicitSplit } from './types.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fedrec-split-files-'));
}

/** A synthetic data set through the builder (raw ids as a file would give them). */
function synthetic(opts: { timestamps?: boolean; ratings?: boolean; prefix?: string } = {}): Dataset {
  const ds = generateSynthetic({ users: 40, items: 300, interactions: 1200, seed: 9, timestamps: opts.timestamps, ratings: opts.ratings });
  const b = new DatasetBuilder('synth');
  const { users, items, ratings, timestamps } = ds.interactions;
  for (let k = 0; k < users.length; k++) {
    b.add(`${opts.prefix ?? ''}${ds.userIds[users[k]]}`, `${opts.prefix ?? ''}${ds.itemIds[items[k]]}`, ratings?.[k], timestamps?.[k]);
  }
  return b.build();
}

function assertSameSplit(got: ImplicitSplit, want: ImplicitSplit): void {
  assert.equal(got.method, want.method);
  assert.equal(got.nUsers, want.nUsers);
  assert.equal(got.nItems, want.nItems);
  for (const part of ['train', 'validation', 'test'] as const) assert.deepEqual(got[part], want[part], part);
  assert.deepEqual(got.negatives, want.negatives);
  assert.deepEqual(got.trainRecency, want.trainRecency);
}

test('write then read gives the very split: leave-one-out and ratio, with and without ratings/timestamps, text ids', async () => {
  const dir = tempDir();
  try {
    const cases: Array<[string, Dataset, (ds: Dataset) => ImplicitSplit]> = [
      ['loo-time', synthetic(), (ds) => leaveOneOut(ds, { seed: 4 })],
      ['loo-random-text', synthetic({ timestamps: false, prefix: 'x' }), (ds) => leaveOneOut(ds, { seed: 4 })],
      ['ratio', synthetic(), (ds) => ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 4 })],
      ['time-no-rating', synthetic({ ratings: false }), (ds) => leaveOneOut(ds, { seed: 4 })],
    ];
    for (const [name, ds, splitOf] of cases) {
      const out = join(dir, name);
      mkdirSync(out);
      const split = splitOf(ds);
      writeSplitFiles(ds, split, out);
      assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
      const back = await readSplitFiles(out, { seed: 0 });
      assert.equal(back.format, 'fedrec');
      assert.equal(back.hasValidation, true);
      assert.equal(back.dataset.name, 'synth');
      assert.deepEqual(back.dataset.userIds, ds.userIds, name);
      assert.deepEqual(back.dataset.itemIds, ds.itemIds, name);
      assert.deepEqual(back.dataset.interactions, ds.interactions, name);
      assertSameSplit(back.split, split);
      // Without split.json the method is inferred from the files.
      rmSync(join(out, 'split.json'));
      assert.equal((await readSplitFiles(out, { seed: 0 })).split.method, split.method);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validation is optional', async () => {
  const dir = tempDir();
  try {
    const ds = synthetic();
    const split = leaveOneOut(ds, { seed: 1 });
    writeSplitFiles(ds, split, dir);
    rmSync(join(dir, 'validation.tsv'));
    rmSync(join(dir, 'validation.negatives.tsv'));
    const back = await readSplitFiles(dir, { seed: 0 });
    assert.equal(back.hasValidation, false);
    assert.equal(back.split.validation.indices.length, 0);
    assert.deepEqual(back.split.test, split.test);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reads the NCF format: NAME.train.rating, NAME.test.rating, NAME.test.negative', async () => {
  const dir = tempDir();
  try {
    // 0-based numeric ids, as in the published files.
    const b = new DatasetBuilder('n');
    const src = synthetic();
    const { users, items, ratings, timestamps } = src.interactions;
    for (let k = 0; k < users.length; k++) b.add(String(users[k]), String(items[k]), ratings![k], timestamps![k]);
    const ds = b.build();
    const split = leaveOneOut(ds, { seed: 2 });
    writeNcf(dir, 'ml-tiny', ds, split);
    const back = await readSplitFiles(dir, { seed: 0 });
    assert.equal(back.format, 'ncf');
    assert.equal(back.hasValidation, false);
    assert.equal(back.dataset.name, 'ml-tiny');
    assert.equal(back.split.method, 'leave-one-out-time');
    assert.deepEqual(back.split.test, split.test);
    assert.deepEqual(back.split.negatives.test, split.negatives.test);
    assert.equal(back.split.train.indices.length, split.train.indices.length + split.validation.indices.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad or inconsistent split files: one error naming file and line', async () => {
  const dir = tempDir();
  const good = {
    'train.tsv': 'a\tx\t5\t1\na\ty\t4\t2\nb\tx\t3\t1\nb\tz\t3\t2\n',
    'test.tsv': 'a\tz\t4\t3\nb\ty\t2\t3\n',
    'test.negatives.tsv': 'a\tw\nb\tw\n',
  };
  const cases: Array<[string, Partial<Record<keyof typeof good | 'validation.tsv' | 'validation.negatives.tsv', string>>, RegExp]> = [
    ['good', {}, /^$/],
    ['test item in train', { 'test.tsv': 'a\tx\t4\t3\nb\ty\t2\t3\n' }, /^test\.tsv line 1: test item x of user a is also in train \(train\.tsv line 1\)$/],
    ['negative interacted', { 'test.negatives.tsv': 'a\tw\nb\tw\tz\n' }, /^test\.negatives\.tsv line 2: negative z is an interaction of user b \(train\)$/],
    ['unknown negatives user', { 'test.negatives.tsv': 'a\tw\nb\tw\nc\tw\n' }, /^test\.negatives\.tsv line 3: unknown user c: no test item to rank against these negatives$/],
    ['unknown user', { 'test.tsv': 'a\tz\t4\t3\nb\ty\t2\t3\nc\tx\t1\t3\n' }, /^test\.tsv line 3: unknown user c: no train interactions$/],
    ['missing negatives', { 'test.negatives.tsv': 'a\tw\n' }, /^test\.negatives\.tsv: no negatives line for user b, who has a test item$/],
    ['malformed', { 'train.tsv': 'a\tx\t5\t1\na\ty\t4\n' }, /^train\.tsv line 2: expected 4 tab-separated fields \(user, item, rating, timestamp\), got 3$/],
    ['bad number', { 'train.tsv': 'a\tx\t5\t1\na\ty\tfive\t2\n' }, /^train\.tsv line 2: rating: expected a number, got 'five'$/],
    ['duplicate', { 'train.tsv': 'a\tx\t5\t1\na\tx\t4\t2\nb\tx\t3\t1\nb\tz\t3\t2\n' }, /^train\.tsv line 2: duplicate pair: user a item x already at line 1$/],
    ['columns differ', { 'test.tsv': 'a\tz\t4\nb\ty\t2\n' }, /^test\.tsv line 1: has a rating and lacks a timestamp, unlike train\.tsv line 1$/],
    ['validation in test', { 'validation.tsv': 'a\tz\t1\t2\n', 'validation.negatives.tsv': 'a\tw\n' }, /^test\.tsv line 1: test item z of user a is also in validation/],
    ['no test negatives', { 'test.negatives.tsv': undefined }, /^test\.negatives\.tsv: file not found/],
  ];
  try {
    for (const [name, change, expected] of cases) {
      const out = join(dir, name.replace(/ /g, '-'));
      mkdirSync(out);
      for (const [file, text] of Object.entries({ ...good, ...change })) if (text !== undefined) writeFileSync(join(out, file), text);
      const message = await readSplitFiles(out, { seed: 0 }).then(() => '', (err: Error) => {
        assert.equal(err.name, 'DataError', `${name}: ${err.stack}`);
        return err.message;
      });
      assert.match(message, expected, name);
    }
    // NCF: the (user,item) of a negatives line must be a test pair; ids are 0-based integers.
    const ncf = join(dir, 'ncf');
    mkdirSync(ncf);
    writeFileSync(join(ncf, 'x.train.rating'), '0\t0\t5\t1\n0\t1\t4\t2\n1\t0\t3\t1\n');
    writeFileSync(join(ncf, 'x.test.rating'), '0\t2\t4\t3\n1\t1\t2\t3\n');
    writeFileSync(join(ncf, 'x.test.negative'), '(0,2)\t3\n(1,2)\t3\n');
    await assert.rejects(readSplitFiles(ncf, { seed: 0 }), /^DataError: x\.test\.negative line 2: \(1,2\) is not a test pair of the \.test\.rating file$/);
    writeFileSync(join(ncf, 'x.test.negative'), '(0,2)\t3\n1,1\t3\n');
    await assert.rejects(readSplitFiles(ncf, { seed: 0 }), /x\.test\.negative line 2: expected '\(user,item\)'/);
    writeFileSync(join(ncf, 'x.test.negative'), '(0,2)\t3\n(1,1)\t3\n');
    const back = await readSplitFiles(ncf, { seed: 0 });
    assert.equal(back.dataset.nItems, 4, 'NCF items that only appear as negatives are catalogue items');
    assert.match(readFileSync(join(ncf, 'x.test.negative'), 'utf8'), /\(1,1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
