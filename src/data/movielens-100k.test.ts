import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from './readers.js';
import { leaveOneOut } from './split.js';
import { countPerUser } from './user-items.js';

/** The shared copy of MovieLens-100K, beside the repository (dist/data → repo → ../shared). */
const ML100K = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/ml-100k');
const skip = existsSync(ML100K) ? false : `MovieLens-100K not found at ${ML100K}`;

test('loads MovieLens-100K: 943 users, 1682 items, 100000 ratings, side info', { skip }, async () => {
  const ds = await loadDataset({ path: ML100K });
  assert.equal(ds.name, 'ml-100k');
  assert.equal(ds.nUsers, 943);
  assert.equal(ds.nItems, 1682);
  assert.equal(ds.interactions.users.length, 100_000);
  const histogram = [0, 0, 0, 0, 0, 0];
  for (const r of ds.interactions.ratings!) histogram[r]++;
  assert.deepEqual(histogram, [0, 6110, 11370, 27145, 34174, 21201]);
  assert.equal(ds.side.users?.size, 943);
  assert.equal(ds.side.items?.size, 1682);
  assert.deepEqual(ds.side.users?.get('1'), { age: '24', gender: 'M', occupation: 'technician', zip: '85711' });
  assert.deepEqual(ds.side.items?.get('1'), { title: 'Toy Story (1995)', genres: "Animation|Children's|Comedy" });
  const miserables = [...ds.side.items!.values()].find((item) => item.title.startsWith('Misérables'));
  assert.ok(miserables, 'the Latin-1 title "Misérables" is decoded');

  const split = leaveOneOut(ds, { seed: 42 });
  assert.deepEqual([...countPerUser(split.test)].every((n) => n === 1), true);
  assert.equal(split.train.indices.length, 100_000 - 2 * 943);
  assert.deepEqual([...countPerUser(split.negatives.test)].every((n) => n === 99), true);
});

test('loads MovieLens-100K with a rating threshold of 4', { skip }, async () => {
  const ds = await loadDataset({ path: ML100K, ratingThreshold: 4 });
  assert.equal(ds.interactions.users.length, 34_174 + 21_201);
});
