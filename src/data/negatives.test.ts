import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { NegativeSampler } from './negatives.js';
import { generateSynthetic } from './synthetic.js';
import { leaveOneOut, ratioSplit } from './split.js';
import { rowOf } from './user-items.js';

const ds = generateSynthetic({ users: 50, items: 400, interactions: 5000, seed: 9 });
const split = leaveOneOut(ds, { seed: 9 });

test('exclusion = all positives ∪ evaluation negatives of both parts, sorted and distinct', () => {
  const sampler = new NegativeSampler(split);
  for (let u = 0; u < split.nUsers; u++) {
    const expected = new Set([
      ...rowOf(split.train, u), ...rowOf(split.validation, u), ...rowOf(split.test, u),
      ...rowOf(split.negatives.validation, u), ...rowOf(split.negatives.test, u),
    ]);
    assert.deepEqual([...sampler.exclusionOf(u)], [...expected].sort((a, b) => a - b));
  }
});

test('100k draws never return an excluded item: no positive, no evaluation negative', () => {
  const sampler = new NegativeSampler(split);
  const rng = Rng.derive(1, 'train-negatives');
  const draws = 100_000;
  const out = new Int32Array(draws);
  const perUser = draws / split.nUsers;
  for (let u = 0; u < split.nUsers; u++) sampler.sample(u, perUser, rng, out, u * perUser);
  for (let u = 0; u < split.nUsers; u++) {
    const excluded = new Set(sampler.exclusionOf(u));
    const heldOut = new Set([...rowOf(split.validation, u), ...rowOf(split.test, u)]);
    for (const item of out.subarray(u * perUser, (u + 1) * perUser)) {
      assert.ok(!excluded.has(item), `user ${u} got excluded item ${item}`);
      assert.ok(item >= 0 && item < split.nItems);
      assert.ok(!heldOut.has(item), `user ${u} got held-out positive ${item}`);
    }
  }
});

test('the same stream gives the same negatives', () => {
  const sampler = new NegativeSampler(split);
  const a = new Int32Array(20);
  const b = new Int32Array(20);
  sampler.sample(3, 20, Rng.derive(5, 'x'), a);
  sampler.sample(3, 20, Rng.derive(5, 'x'), b);
  assert.deepEqual(a, b);
});

test('forClient samples from a client’s own data only, with the same exclusion', () => {
  const sampler = new NegativeSampler(split);
  const u = 7;
  const negatives = new Int32Array([
    ...rowOf(split.validation, u), ...rowOf(split.test, u),
    ...rowOf(split.negatives.validation, u), ...rowOf(split.negatives.test, u),
  ]);
  const client = NegativeSampler.forClient(split.nItems, rowOf(split.train, u), negatives);
  assert.deepEqual([...client.exclusion], [...sampler.exclusionOf(u)]);
  assert.deepEqual([...sampler.forUser(u).exclusion], [...sampler.exclusionOf(u)]);
  const out = new Int32Array(10_000);
  client.sample(out.length, Rng.derive(2, 'client'), out);
  const excluded = new Set(client.exclusion);
  assert.ok(out.every((item) => !excluded.has(item)));
  const shared = new Int32Array(out.length);
  sampler.sample(u, shared.length, Rng.derive(2, 'client'), shared);
  assert.deepEqual(out, shared, 'the bitset sampler draws exactly what the all-users sampler draws');
});

test('errors: unknown user, no item left, out too small', () => {
  const sampler = new NegativeSampler(split);
  const rng = new Rng(1);
  assert.throws(() => sampler.sample(split.nUsers, 1, rng, new Int32Array(1)), /user 50 outside \[0, 50\)/);
  assert.throws(() => sampler.sample(0, 2, rng, new Int32Array(1)), /out has 1 slots, need 2/);
  const full = NegativeSampler.forClient(3, Int32Array.from([0, 1]), Int32Array.from([2]));
  assert.throws(() => full.sample(1, rng, new Int32Array(1)), /every item is excluded/);
  assert.throws(() => NegativeSampler.forClient(3, Int32Array.from([3]), new Int32Array(0)), /excluded item 3 outside \[0, 3\)/);
});

test('ratio split (full ranking): held-out positives can be drawn, evaluation negatives never', () => {
  const ratio = ratioSplit(ds, { ratios: [0.8, 0.1, 0.1], seed: 9 });
  const sampler = new NegativeSampler(ratio);
  let heldOutDrawn = 0;
  for (let u = 0; u < ratio.nUsers; u++) {
    const excluded = new Set(sampler.exclusionOf(u));
    for (const item of [...rowOf(ratio.train, u), ...rowOf(ratio.negatives.validation, u), ...rowOf(ratio.negatives.test, u)]) {
      assert.ok(excluded.has(item));
    }
    const heldOut = new Set([...rowOf(ratio.validation, u), ...rowOf(ratio.test, u)]);
    const out = new Int32Array(2000);
    sampler.sample(u, out.length, Rng.derive(3, u), out);
    for (const item of out) {
      assert.ok(!excluded.has(item));
      if (heldOut.has(item)) heldOutDrawn++;
    }
  }
  assert.ok(heldOutDrawn > 0, 'held-out positives are ordinary full-ranking candidates');
});
