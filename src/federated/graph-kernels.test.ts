/**
 * Graph aggregation's propagation on the SIMD kernels (math/wasm/graph-kernels.ts) against its
 * JavaScript loops: θ, every personal row and the exported state bit for bit, over several rounds
 * with absent users, L = 1 and 2, row and symmetric normalisation, with and without self-loops,
 * uploads in and out of user order, SGD and Adam server steps, widths 6 and 12.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { GraphAggregation, useGraphKernels, type GraphOptions } from './graph.js';
import type { GraphUpdate } from './personal-types.js';
import { paramInfo } from '../models/params.js';

const [nUsers, nItems, wDim] = [40, 60, 24];

/** The same rounds of uploads through one aggregation; returns θ, the head and the state's tables. */
function run(options: GraphOptions, d: number, kernels: boolean, shuffled: boolean): Record<string, Float32Array> {
  useGraphKernels(kernels);
  try {
    const rng = new Rng(12);
    const global = { item: Float32Array.from({ length: nItems * d }, () => rng.normal() * 0.1), head: new Float32Array(4) };
    const agg = new GraphAggregation(global, nUsers, nItems, options.similarity === 'items' ? nItems * d : wDim, [paramInfo('head', 1, 4, 'dense')], options);
    for (let round = 1; round <= 4; round++) {
      agg.beginRound(round);
      let users = Array.from({ length: nUsers }, (_, u) => u).filter((u) => round === 1 || rng.int(3) > 0);
      if (shuffled) users = users.sort(() => rng.int(3) - 1);
      for (const u of users) {
        const rows = Int32Array.from(new Set(Array.from({ length: 3 + rng.int(15) }, () => rng.int(nItems)))).sort();
        const itemRows = Float32Array.from({ length: rows.length * d }, (_, k) => global.item[rows[Math.floor(k / d)] * d + (k % d)] + 0.05 * rng.normal());
        const weightVector = Float32Array.from({ length: wDim }, () => rng.normal() + (u % 3));
        const update: GraphUpdate = { round, weight: rows.length, rows: new Int32Array(0), itemTables: {}, denseTables: { head: Float32Array.from({ length: 4 }, () => rng.normal()) }, loss: 0, users: [{ user: u, weightVector, rows, itemRows, weight: rows.length }] };
        agg.accept(update);
      }
      agg.endRound(global);
    }
    return { item: global.item, head: global.head, ...agg.exportState().tables };
  } finally {
    useGraphKernels(true);
  }
}

const base: GraphOptions = { neighbors: 4, layers: 1, norm: 'row', selfLoop: true, sketchDim: 0, seed: 3 };
const cases: [string, GraphOptions, boolean][] = [
  ['row norm, self-loop, L = 1', base, false],
  ['sym norm, no self-loop, L = 2, uploads out of user order', { ...base, norm: 'sym', selfLoop: false, layers: 2 }, true],
  ['L = 3, Adam server step, sketched similarity', { ...base, layers: 3, sketchDim: 8, serverOptimizer: { kind: 'adam', lr: 0.05 } }, false],
  ['item-update similarity, out of order', { ...base, similarity: 'items' }, true],
];
// d = 6: the kernels' two-float steps only (and the upload's loop); d = 12: the unrolled steps too and the upload kernel
for (const [name, options, shuffled] of cases) {
  for (const d of [6, 12]) test(`propagation on the kernels equals the JavaScript loops bit for bit: ${name}, d = ${d}`, () => {
    const js = run(options, d, false, shuffled);
    const simd = run(options, d, true, shuffled);
    assert.deepEqual(Object.keys(simd).sort(), Object.keys(js).sort());
    for (const key of Object.keys(js)) assert.deepEqual(simd[key], js[key], key);
  });
}
