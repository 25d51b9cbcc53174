/**
 * Row-order freedom (design/EVALUATION.md): the same file with its lines shuffled gives the same
 * split, the same evaluation negatives and the same metrics, on synthetic data (always) and on
 * MovieLens-100K's u.data (when ../shared/data/ml-100k is present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../math/rng.js';
import { generateSynthetic } from '../data/synthetic.js';
import { loadDataset } from '../data/readers.js';
import { leaveOneOut, ratioSplit } from '../data/split.js';
import { rowOf } from '../data/user-items.js';
import type { Dataset, ImplicitSplit, UserItems } from '../data/types.js';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from './experiment.js';

const ML100K = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/ml-100k');
const skipMl100k = existsSync(join(ML100K, 'u.data')) ? false : `MovieLens-100K not found at ${ML100K}: the u.data shuffle test needs it`;

function shuffledLines(text: string, seed: number): string {
  const lines = text.split('\n').filter((l) => l.length > 0);
  return new Rng(seed).shuffle(lines).join('\n') + '\n';
}

/** Every part of a split as raw-id rows: what must not depend on the row order. */
function rawSplit(ds: Dataset, split: ImplicitSplit): Record<string, Record<string, string[]>> {
  const rows = (ui: UserItems): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (let u = 0; u < split.nUsers; u++) out[ds.userIds[u]] = Array.from(rowOf(ui, u), (i) => ds.itemIds[i]).sort();
    return out;
  };
  return {
    train: rows(split.train),
    validation: rows(split.validation),
    test: rows(split.test),
    validationNegatives: rows(split.negatives.validation),
    testNegatives: rows(split.negatives.test),
  };
}

/** The result document without what legitimately differs: timings and the data path. */
function comparable(doc: unknown): unknown {
  return JSON.parse(JSON.stringify(doc, (key, value) => (key === 'seconds' || key === 'timing' || key === 'data' ? undefined : value)));
}

async function assertOrderFree(dir: string, original: string, name: string, run: Record<string, unknown>): Promise<void> {
  // Same file name in two folders: the data set's name comes from it.
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  const a = join(dir, 'a', name);
  const b = join(dir, 'b', name);
  writeFileSync(a, original);
  writeFileSync(b, shuffledLines(original, 7));
  assert.notEqual(readFileSync(b, 'utf8'), original);
  const [dsA, dsB] = [await loadDataset({ path: a, name }), await loadDataset({ path: b, name })];
  assert.deepEqual(dsB.userIds, dsA.userIds);
  assert.deepEqual(dsB.itemIds, dsA.itemIds);
  for (const split of [(ds: Dataset) => leaveOneOut(ds, { seed: 3 }), (ds: Dataset) => ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 3 })]) {
    assert.deepEqual(rawSplit(dsB, split(dsB)), rawSplit(dsA, split(dsA)));
  }
  const train = async (path: string) => comparable((await runTraining(parseTrainConfig({ ...run, data: path }))).result);
  assert.deepEqual(await train(b), await train(a));
}

function syntheticTsv(ds: Dataset, prefix: { user: string; item: string }, withTime: boolean): string {
  const { users, items, ratings, timestamps } = ds.interactions;
  let out = '';
  for (let k = 0; k < users.length; k++) {
    out += `${prefix.user}${ds.userIds[users[k]]}\t${prefix.item}${ds.itemIds[items[k]]}\t${ratings![k]}${withTime ? `\t${timestamps![k]}` : ''}\n`;
  }
  return out;
}

test('shuffling the rows of a synthetic file changes no split, negative or metric (numeric and text ids, with and without timestamps)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-row-order-'));
  try {
    // Coarse timestamps (whole days) make ties at a user's latest interaction common.
    const ds = generateSynthetic({ users: 60, items: 400, interactions: 2400, seed: 5 });
    const days = { ...ds, interactions: { ...ds.interactions, timestamps: ds.interactions.timestamps!.map((t) => Math.floor(t / 864_000)) } };
    const run = { mode: 'central', epochs: 2, evalEvery: 1, columns: ['user', 'item', 'rating', 'timestamp'], sep: '\t' };
    await assertOrderFree(dir, syntheticTsv(days, { user: '', item: '' }, true), 'numeric.tsv', run);
    await assertOrderFree(dir, syntheticTsv(days, { user: 'u', item: 'i' }, true), 'text.tsv', run);
    const noTime = { ...run, columns: ['user', 'item', 'rating'] };
    await assertOrderFree(dir, syntheticTsv(days, { user: 'u', item: 'i' }, false), 'random.tsv', noTime);
    await assertOrderFree(dir, syntheticTsv(days, { user: '', item: '' }, true), 'federated.tsv', { ...run, mode: 'federated', rounds: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shuffling the lines of ML-100K u.data changes no split, negative or metric', { skip: skipMl100k }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-row-order-ml-'));
  try {
    const original = readFileSync(join(ML100K, 'u.data'), 'utf8');
    await assertOrderFree(dir, original, 'u.data', { mode: 'central', epochs: 1, evalEvery: 1, format: 'ml-100k' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
