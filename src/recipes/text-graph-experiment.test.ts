import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetBuilder } from '../data/builder.js';
import { leaveOneOut } from '../data/split.js';
import type { RecentItems } from '../models/text-graph/model.js';
import { parseTrainConfig } from '../config/config.js';
import { runTextGraphTraining, splitRecentItems } from './text-graph-experiment.js';

/** User 'a' rated items a0 … a5 at times 1 … 6; user 'b' rated b0 … b9, so there are negatives to draw. */
function dataset(withTime: boolean) {
  const b = new DatasetBuilder('recent');
  for (let j = 0; j < 6; j++) b.add('a', `a${j}`, 5, withTime ? j + 1 : undefined);
  for (let j = 0; j < 10; j++) b.add('b', `b${j}`, 5, withTime ? j + 1 : undefined);
  return b.build();
}

const namesOf = (recent: RecentItems | null, u: number, itemIds: readonly string[]): string[] =>
  [...recent!.rows.subarray(recent!.indptr[u], recent!.indptr[u + 1])].map((i) => itemIds[i]).sort();

test('recent items: the latest train positives, or with the validation item first (test under leave-one-out by time)', () => {
  const ds = dataset(true);
  const split = leaveOneOut(ds, { seed: 1, negatives: 3 });
  const a = ds.userIndex.get('a')!;
  // a5 is test, a4 validation, a0 … a3 train
  assert.deepEqual(namesOf(splitRecentItems(split, 3), a, ds.itemIds), ['a1', 'a2', 'a3']);
  assert.deepEqual(namesOf(splitRecentItems(split, 3, true), a, ds.itemIds), ['a2', 'a3', 'a4']);
  assert.deepEqual(namesOf(splitRecentItems(split, 1, true), a, ds.itemIds), ['a4']);
  for (const withValidation of [false, true]) assert.ok(!namesOf(splitRecentItems(split, 10, withValidation), a, ds.itemIds).includes('a5'), 'the test item is never read');
  assert.equal(splitRecentItems(split, 0, true), null);
});

test('recent items: without an order in time, the train+validation test history is refused', () => {
  const ds = dataset(false);
  const split = leaveOneOut(ds, { seed: 1, negatives: 3 });
  assert.equal(split.method, 'leave-one-out-random');
  assert.throws(() => splitRecentItems(split, 3, true), /testHistory 'train\+validation' needs leave-one-out by time .* this split is leave-one-out-random$/);
  assert.ok(splitRecentItems(split, 3));
});

test('central text-graph: the test scorer reads the trained tables of the selected epoch, however often it was probed before', async () => {
  const run = (evalEvery: number) => runTextGraphTraining(parseTrainConfig({
    model: 'text-graph', mode: 'central', encoder: 'hash', syntheticUsers: 60, syntheticItems: 300, syntheticInteractions: 2000,
    epochs: 3, evalEvery, lr: 0.01, eval: ['sampled'], k: [10],
  }));
  const everyEpoch = await run(1);
  const once = await run(3);
  assert.equal(everyEpoch.result.selectedRound, 3, 'precondition: the last epoch is the best, so both runs report epoch 3');
  assert.deepEqual(everyEpoch.result.metrics, once.result.metrics);
});
