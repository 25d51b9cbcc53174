/**
 * UFGraphFR client round (text-graph-client.ts) under recency weighting: the latest positives are
 * trained on `weight` times, exactly as if the user held those copies, and the round is reproducible;
 * the recent-items term reads each user's latest positives from the client's compact table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { initJointLayer, initTextGraphGlobal, textInputs, type TextGraphConfig } from '../models/text-graph/model.js';
import { clientNegativeSource } from './client-work.js';
import { recentRows, runTextGraphClientRound, type TextGraphPlan } from './text-graph-client.js';
import type { ClientData } from './types.js';

const config: TextGraphConfig = { textDim: 6, dim: 4, layers: [4], lambda: 0.1 };
const nItems = 200;
const global = initTextGraphGlobal(config, nItems, new Rng(1));
const texts = textInputs(config, Float32Array.from({ length: config.textDim }, (_, t) => Math.sin(t + 1)), initJointLayer(config, new Rng(2)));
const items = Int32Array.of(3, 8, 11, 17, 20, 26);
const ranks = Int32Array.of(5, 1, 4, 0, 3, 2); // latest: 17, then 8
const excluded = [Int32Array.of(199)];
const plan: TextGraphPlan = {
  round: 1, seed: 7, model: config, localEpochs: 2, batch: 4, negatives: 2, optimizer: { kind: 'sgd', lr: 0.1 }, uploadUsers: true, dpLaplace: 0,
  recency: { window: 2, weight: 3 },
};

function round(p: TextGraphPlan, data: ClientData) {
  return runTextGraphClientRound(p, { global, personal: () => null }, data, texts, null, clientNegativeSource(nItems, data));
}

test('text-graph client: recency weighting trains on the latest positives weight times, like holding the copies', () => {
  const weighted = round(plan, { clientId: 0, users: Int32Array.of(0), positives: [items], ratings: [null], recency: [ranks], excluded });
  // the same user holding its two latest positives twice more, without weighting: the same round
  const copies = Int32Array.of(...items, 8, 17, 8, 17);
  const explicit = round({ ...plan, recency: undefined }, { clientId: 0, users: Int32Array.of(0), positives: [copies], ratings: [null], recency: [null], excluded });
  assert.equal(weighted.update.weight, (items.length + 2 * 2) * (1 + plan.negatives));
  assert.deepEqual(weighted.update, explicit.update);
  assert.deepEqual(weighted.state.local, explicit.state.local);
  const plain = round({ ...plan, recency: undefined }, { clientId: 0, users: Int32Array.of(0), positives: [items], ratings: [null], recency: [ranks], excluded });
  assert.equal(plain.update.weight, items.length * (1 + plan.negatives), 'no weighting: each positive once');
});

test('text-graph client: same seed, same round; another seed, other negatives', () => {
  const data: ClientData = { clientId: 3, users: Int32Array.of(0), positives: [items], ratings: [null], recency: [ranks], excluded };
  const a = round(plan, data);
  const b = round(plan, data);
  assert.deepEqual(a.update, b.update);
  assert.deepEqual(a.state.local, b.state.local);
  const c = round({ ...plan, seed: 8 }, data);
  assert.notDeepEqual(c.update.users[0].rows, a.update.users[0].rows);
});

test('text-graph client: the recent-items rows are each user\'s latest positives in the compact table; none without timestamps', () => {
  const other = Int32Array.of(2, 8, 40);
  const data: ClientData = { clientId: 1, users: Int32Array.of(0, 1), positives: [items, other], ratings: [null, null], recency: [ranks, Int32Array.of(0, 2, 1)], excluded: [excluded[0], excluded[0]] };
  const userRows = [Int32Array.of(1, 3, 8, 11, 17, 20, 26, 90), Int32Array.of(2, 8, 40, 77)]; // positives and some negatives, sorted
  const groups = Int32Array.of(0, 8, 12);
  const table = Int32Array.of(...userRows[0], ...userRows[1]); // compact row → item
  const h = recentRows(data, userRows, groups, 2);
  const itemsOf = (u: number) => [...h.rows.subarray(h.indptr[u], h.indptr[u + 1])].map((r) => table[r]).sort((a, b) => a - b);
  assert.deepEqual(itemsOf(0), [8, 17]);
  assert.deepEqual(itemsOf(1), [2, 40]);
  const untimed = recentRows({ ...data, recency: [null, null] }, userRows, groups, 2);
  assert.equal(untimed.rows.length, 0);
  const withTerm = round({ ...plan, model: { ...config, recentItems: 2 } }, { ...data, users: Int32Array.of(0), positives: [items], recency: [ranks], excluded });
  const without = round(plan, { ...data, users: Int32Array.of(0), positives: [items], recency: [ranks], excluded });
  assert.notDeepEqual(withTerm.update.users[0].itemRows, without.update.users[0].itemRows, 'the term changes what the round trains');
});
