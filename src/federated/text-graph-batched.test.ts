/**
 * Text-graph client rounds on the batched head (models/text-graph/batched-head.ts) against the
 * per-example reference path (`batched: false`): three rounds, the model carried over and the
 * server's tables moved by each round's upload, end at the same uploads and local state to float32
 * summation order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { initJointLayer, initTextGraphGlobal, textInputs, type TextGraphConfig } from '../models/text-graph/model.js';
import type { GlobalParams } from '../models/types.js';
import { clientNegativeSource } from './client-work.js';
import { runTextGraphClientRound, type TextGraphPlan } from './text-graph-client.js';
import type { ClientData, ClientState } from './types.js';

/** |batched − reference| ≤ ABS + REL·|reference|: float32 sums in another order. */
const ABS = 2e-6;
const REL = 1e-4;
const close = (got: number, ref: number, what: string): void =>
  assert.ok(Math.abs(got - ref) <= ABS + REL * Math.abs(ref), `${what}: batched ${got} vs reference ${ref}`);

test('batched text-graph client rounds: three rounds end at the uploads and local state of the per-example path', () => {
  const config: TextGraphConfig = { textDim: 12, dim: 8, layers: [16, 8], lambda: 0.1, dot: true, recentItems: 3 };
  const nItems = 120;
  const rng = new Rng(4);
  const positives = Int32Array.from(new Set(Array.from({ length: 40 }, () => rng.int(nItems - 1)))).sort();
  const recency = Int32Array.from({ length: positives.length }, (_, k) => positives.length - 1 - k);
  const data: ClientData = { clientId: 2, users: Int32Array.of(0), positives: [positives], ratings: [null], recency: [recency], excluded: [Int32Array.of(nItems - 1)] };
  const texts = textInputs(config, Float32Array.from({ length: config.textDim }, (_, t) => Math.cos(t)), initJointLayer(config, new Rng(2)));
  const run = (batched: boolean) => {
    let global: GlobalParams = initTextGraphGlobal(config, nItems, new Rng(1), 0.1);
    let state: ClientState | null = null;
    const results = [];
    for (let round = 1; round <= 3; round++) {
      const plan: TextGraphPlan = {
        round, seed: 7, model: config, localEpochs: 2, batch: 32, negatives: 4, optimizer: { kind: 'sgd', lr: 0.1 }, uploadUsers: true, dpLaplace: 0,
        recency: { window: 5, weight: 2 },
      };
      const result = runTextGraphClientRound(plan, { global, personal: () => null }, data, texts, state, clientNegativeSource(nItems, data), { batched });
      state = result.state;
      results.push(result);
      // the next round starts from this round's head and item rows (as the server would send them)
      const next: Record<string, Float32Array> = { item: global.item.slice() };
      const upload = result.update.users[0];
      upload.rows.forEach((row, k) => next.item.set(upload.itemRows.subarray(k * config.dim, (k + 1) * config.dim), row * config.dim));
      for (const [name, delta] of Object.entries(result.update.denseTables)) next[name] = global[name].map((v, k) => v + delta[k]);
      global = next;
    }
    return results;
  };
  const ref = run(false);
  const got = run(true);
  let compared = 0;
  for (let r = 0; r < ref.length; r++) {
    const a = got[r];
    const b = ref[r];
    close(a.update.loss, b.update.loss, `round ${r + 1} loss`);
    assert.deepEqual(a.update.users[0].rows, b.update.users[0].rows);
    const pairs: [string, Float32Array, Float32Array][] = [
      ['weightVector', a.update.users[0].weightVector, b.update.users[0].weightVector],
      ['itemRows', a.update.users[0].itemRows, b.update.users[0].itemRows],
      ...Object.keys(b.update.denseTables).map((name): [string, Float32Array, Float32Array] => [name, a.update.denseTables[name], b.update.denseTables[name]]),
      ...Object.keys(b.state.local).map((name): [string, Float32Array, Float32Array] => [`local ${name}`, a.state.local[name], b.state.local[name]]),
    ];
    for (const [name, x, y] of pairs) {
      assert.equal(x.length, y.length, name);
      for (let k = 0; k < y.length; k++) close(x[k], y[k], `round ${r + 1} ${name}[${k}]`);
      compared += y.length;
    }
  }
  assert.ok(compared > 1000);
});
