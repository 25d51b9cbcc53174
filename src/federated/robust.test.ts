import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelParamInfo } from '../models/registry.js';
import { RobustAggregation, type RobustRule } from './robust.js';
import type { GlobalUpdate } from './types.js';

const info = modelParamInfo({ kind: 'mf', dim: 1 }, 0, 3).filter((p) => p.scope === 'global');
const upd = (rows: number[], emb: number[], weight = 1): GlobalUpdate => ({
  round: 1,
  weight,
  loss: 0.1,
  rows: Int32Array.from(rows),
  itemTables: { itemEmb: Float32Array.from(emb), itemBias: new Float32Array(rows.length) },
  denseTables: { globalBias: Float32Array.from([emb[0] ?? 0]) },
});

/** One round from a zero model with server SGD lr 1: the model becomes the aggregate itself. */
function aggregate(rule: RobustRule, updates: GlobalUpdate[], trimFraction = 0.1, rowAveraging: 'touched' | 'all' = 'touched'): Record<string, Float32Array> {
  const s = new RobustAggregation(info, 3, { rule, trimFraction, serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging, clientWeighting: 'uniform' });
  const g: Record<string, Float32Array> = { itemEmb: new Float32Array(3), itemBias: new Float32Array(3), globalBias: new Float32Array(1) };
  s.beginRound(1);
  for (const u of updates) s.accept(u);
  assert.equal(s.endRound(g).refused, undefined);
  return g;
}

test('coordinate-wise median ignores one huge value (and a claimed weight) per coordinate, over the clients that touched each row', () => {
  const g = aggregate('median', [upd([0, 1], [1, 5]), upd([0, 1], [2, 6]), upd([0, 1, 2], [1e30, 7, 9], 1e6)]);
  assert.deepEqual([...g.itemEmb], [2, 6, 9]);
  assert.equal(g.globalBias[0], 2);
});

test("trimmed mean drops the ⌊βn⌋ extremes of each coordinate; 'all' counts untouched rows as zeros", () => {
  const five = [1, 2, 3, 4, 1000].map((v) => upd([0], [v]));
  assert.equal(aggregate('trimmed-mean', five, 0.2).itemEmb[0], 3);
  assert.equal(aggregate('median', [upd([0], [4]), upd([1], [1]), upd([1], [1])], 0.1, 'all').itemEmb[0], 0);
});

test('norm-bounded mean clips every update to the round median norm before averaging', () => {
  const g = aggregate('norm-bounded', [upd([0], [1]), upd([0], [2]), upd([0], [-300])]);
  // norms (emb and global bias): √2, 2√2, 300√2 → bound 2√2: the attacker counts as −2
  assert.ok(Math.abs(g.itemEmb[0] - (1 + 2 - 2) / 3) < 1e-6, String(g.itemEmb[0]));
});
