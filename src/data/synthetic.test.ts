import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic } from './synthetic.js';
import { buildUserItems, countPerUser } from './user-items.js';

test('defaults are ML-100K-shaped: 943 users, 1682 items, 100k interactions, ratings and timestamps', () => {
  const ds = generateSynthetic({ seed: 1 });
  assert.equal(ds.name, 'synthetic');
  assert.equal(ds.nUsers, 943);
  assert.equal(ds.nItems, 1682);
  assert.equal(ds.interactions.users.length, 100_000);
  const ratings = ds.interactions.ratings!;
  assert.ok(ratings.every((r) => Number.isInteger(r) && r >= 1 && r <= 5));
  const mean = ratings.reduce((s, r) => s + r, 0) / ratings.length;
  assert.ok(mean > 3 && mean < 4.2, `mean rating ${mean}`);
  assert.ok(ds.interactions.timestamps!.every((t) => Number.isInteger(t) && t > 8e8));
  const ui = buildUserItems(ds.nUsers, ds.interactions.users, ds.interactions.items);
  const counts = countPerUser(ui);
  assert.ok(Math.min(...counts) >= 5);
  assert.ok(Math.max(...counts) > 4 * Math.min(...counts), 'per-user counts vary');
  for (let u = 0; u < ds.nUsers; u++) {
    for (let j = ui.indptr[u] + 1; j < ui.indptr[u + 1]; j++) assert.notEqual(ui.indices[j], ui.indices[j - 1], 'no duplicate pairs');
  }
  assert.deepEqual(Object.keys(ds.side.users!.get('1')!).sort(), ['age', 'gender', 'occupation', 'zip']);
  assert.equal(ds.side.users!.size, 943);
  assert.equal(ds.userIndex.get('943'), 942);
});

test('deterministic per seed, different across seeds', () => {
  const opts = { users: 100, items: 300, interactions: 3000 };
  const a = generateSynthetic({ ...opts, seed: 5 });
  const b = generateSynthetic({ ...opts, seed: 5 });
  const c = generateSynthetic({ ...opts, seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.interactions.items, c.interactions.items);
});

test('popularity skew concentrates interactions on the most popular items', () => {
  const topTenthShare = (popularitySkew: number): number => {
    const ds = generateSynthetic({ users: 300, items: 500, interactions: 15_000, popularitySkew, seed: 2 });
    const perItem = new Int32Array(ds.nItems);
    for (const i of ds.interactions.items) perItem[i]++;
    const top = [...perItem].sort((x, y) => y - x).slice(0, ds.nItems / 10);
    return top.reduce((s, n) => s + n, 0) / ds.interactions.items.length;
  };
  assert.ok(topTenthShare(1) > 1.4 * topTenthShare(0));
});

test('implicit variant has no ratings or timestamps', () => {
  const ds = generateSynthetic({ users: 20, items: 50, interactions: 200, ratings: false, timestamps: false, seed: 1 });
  assert.equal(ds.interactions.ratings, null);
  assert.equal(ds.interactions.timestamps, null);
});

test('side info carries signal: users of the same gender share more items than users of different genders', () => {
  const ds = generateSynthetic({ users: 400, items: 400, interactions: 16_000, popularitySkew: 0, seed: 3 });
  const ui = buildUserItems(ds.nUsers, ds.interactions.users, ds.interactions.items);
  const gender = ds.userIds.map((id) => ds.side.users!.get(id)!.gender);
  const itemsOf = (u: number) => new Set(ui.indices.subarray(ui.indptr[u], ui.indptr[u + 1]));
  let same = 0;
  let sameN = 0;
  let diff = 0;
  let diffN = 0;
  for (let u = 0; u < 200; u++) {
    const a = itemsOf(u);
    for (let v = u + 1; v < 200; v++) {
      const overlap = [...itemsOf(v)].filter((i) => a.has(i)).length;
      if (gender[u] === gender[v]) {
        same += overlap;
        sameN++;
      } else {
        diff += overlap;
        diffN++;
      }
    }
  }
  assert.ok(same / sameN > 1.1 * (diff / diffN), `same ${same / sameN} vs different ${diff / diffN}`);
});

test('ML-1M shape (6040 users, 3706 items, 1M interactions) generates', () => {
  const ds = generateSynthetic({ users: 6040, items: 3706, interactions: 1_000_000, seed: 1 });
  assert.equal(ds.interactions.users.length, 1_000_000);
  assert.equal(ds.nUsers, 6040);
  assert.equal(ds.nItems, 3706);
});

test('rejects impossible shapes', () => {
  assert.throws(() => generateSynthetic({ users: 10, items: 20, interactions: 10 }), /interactions must be an integer in \[50, 120\]/);
  assert.throws(() => generateSynthetic({ users: 0 }), /users must be a positive integer/);
  assert.throws(() => generateSynthetic({ items: 3 }), /items must be at least 5/);
});
