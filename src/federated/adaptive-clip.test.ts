import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelParamInfo } from '../models/registry.js';
import { UpdateAccumulator } from './aggregate.js';
import { AdaptiveNormBound, CLIP_SLOT } from './adaptive-clip.js';
import { updateNorm } from './bounds.js';
import { FedAvg } from './fedavg.js';
import { RobustAggregation } from './robust.js';
import type { GlobalUpdate } from './types.js';
import { parseTrainConfig } from '../config/config.js';

const info = modelParamInfo({ kind: 'mf', dim: 2 }, 0, 4).filter((p) => p.scope === 'global');
/** An update of norm `norm` spread evenly over every value. */
const update = (round: number, norm: number, weight = 1): GlobalUpdate => {
  const v = norm / Math.sqrt(13);
  return {
    round,
    weight,
    loss: 0.5,
    rows: Int32Array.from([0, 1, 2, 3]),
    itemTables: { itemEmb: new Float32Array(8).fill(v), itemBias: new Float32Array(4).fill(v) },
    denseTables: { globalBias: Float32Array.from([v]) },
  };
};
const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} ≠ ${b}`);
const globalOf = (): Record<string, Float32Array> => ({ itemEmb: new Float32Array(8), itemBias: new Float32Array(4), globalBias: new Float32Array(1) });

test('the bound is the ceiling in round 1, then κ × the previous round\'s median norm, never above the ceiling', () => {
  const b = new AdaptiveNormBound(10, 1);
  assert.equal(b.bound, 10);
  b.observeAll([1, 2, 3, 1000, Number.NaN]);
  b.endRound();
  assert.equal(b.bound, Math.fround(2.5)); // median of 1, 2, 3, 1000
  const k2 = new AdaptiveNormBound(10, 2);
  k2.observeAll([4, 6, 8]);
  k2.endRound();
  assert.equal(k2.bound, 10); // 2 × 6 capped
  k2.endRound(); // a round with no update keeps the bound
  assert.equal(k2.bound, 10);
  const fixed = new AdaptiveNormBound(10, 0);
  fixed.observeAll([1, 1, 1]);
  fixed.endRound();
  assert.equal(fixed.bound, 10);
  assert.deepEqual(fixed.state(), {});
  // state round trip; a malformed slot is refused
  const copy = new AdaptiveNormBound(10, 1);
  copy.restore(b.state());
  assert.equal(copy.bound, b.bound);
  assert.throws(() => copy.restore({ [CLIP_SLOT]: Float32Array.of(Number.NaN) }), /one positive finite bound/);
  assert.equal(copy.bound, b.bound);
});

test('FedAvg with the adaptive clip: an attacker at the fixed bound weighs like an honest client from round 2 on; the bound is checkpointed', () => {
  const make = () => new FedAvg(info, 4, { serverOptimizer: { kind: 'adam', lr: 0.02 }, rowAveraging: 'touched', clientWeighting: 'uniform', clipNorm: 10, adaptiveClip: 1 });
  const s = make();
  const g = globalOf();
  for (let r = 1; r <= 3; r++) {
    near(s.bounds.clipNorm as number, r === 1 ? 10 : 2);
    s.beginRound(r);
    for (let k = 0; k < 8; k++) s.accept(update(r, 1 + k * 0.25)); // honest norms 1 … 2.75: with the attacker's, median 2
    s.accept(update(r, 1e6, 1e6)); // the attacker: norm 1e6, claims weight 1e6
    s.endRound(g);
  }
  // restarted from its checkpoint, a new strategy clips with the same bound and steps like the first
  const restarted = make();
  restarted.restoreServerState(s.serverState());
  assert.equal(restarted.bounds.clipNorm, s.bounds.clipNorm);
  const g2 = Object.fromEntries(Object.entries(g).map(([n, t]) => [n, t.slice()]));
  for (const [strategy, tables] of [[s, g], [restarted, g2]] as const) {
    strategy.beginRound(4);
    for (let k = 0; k < 9; k++) strategy.accept(update(4, 1 + k * 0.25));
    strategy.endRound(tables);
  }
  assert.deepEqual(g2, g);
  // an old checkpoint without the slot: the fixed clip for the next round
  const old = make();
  const { [CLIP_SLOT]: _, ...tables } = s.serverState().tables;
  old.restoreServerState({ step: s.serverState().step, tables });
  assert.equal(old.bounds.clipNorm, 10);
});

test('worker partials carry their norms; the bound ignores the order they arrive in', () => {
  const a = new FedAvg(info, 4, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched', clientWeighting: 'uniform', clipNorm: 10, adaptiveClip: 1 });
  const b = new FedAvg(info, 4, { serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched', clientWeighting: 'uniform', clipNorm: 10, adaptiveClip: 1 });
  const p = new UpdateAccumulator(info, 4).partial();
  a.beginRound(1);
  b.beginRound(1);
  a.accept(update(1, 3));
  a.accept(update(1, 1));
  a.accept(update(1, 2));
  b.acceptPartial(p, [2, 3]);
  b.acceptPartial(p, [1]);
  a.endRound(globalOf());
  b.endRound(globalOf());
  near(a.bounds.clipNorm as number, 2);
  assert.equal(b.bounds.clipNorm, Math.fround(2));
});

test('robust rules use the same adaptive clip', () => {
  const s = new RobustAggregation(info, 4, { rule: 'median', serverOptimizer: { kind: 'sgd', lr: 1 }, rowAveraging: 'touched', clientWeighting: 'uniform', clipNorm: 10, adaptiveClip: 1 });
  s.beginRound(1);
  for (const n of [1, 2, 3]) s.accept(update(1, n));
  s.endRound(globalOf());
  near(s.serverState().tables[CLIP_SLOT][0], 2);
  const g = globalOf();
  s.beginRound(2);
  for (const n of [1e6, 1e6, 1e6]) s.accept(update(2, n)); // all clipped to 2: the median update has norm 2
  s.endRound(g);
  assert.ok(Math.abs(updateNorm({ ...update(2, 0), itemTables: { itemEmb: g.itemEmb, itemBias: g.itemBias }, denseTables: { globalBias: g.globalBias } }) - 2) < 1e-5);
});

test('defaults: FedAvg runs clip adaptively; FedRecon and DP runs do not', () => {
  assert.equal(parseTrainConfig({}).adaptiveClip, 1);
  assert.equal(parseTrainConfig({ algorithm: 'fedrecon' }).adaptiveClip, 0);
  assert.equal(parseTrainConfig({ dpClip: 1, fraction: 0.1 }).adaptiveClip, 0);
  assert.throws(() => parseTrainConfig({ dpClip: 1, fraction: 0.1, adaptiveClip: 1 }), /adaptive-clip/);
});
