/** The SIMD Gram-block kernel against float64 dot products, for widths that need padding and blocks off the diagonal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { GramBlocks } from './gram-kernels.js';

test('gram blocks: every entry is the dot product of its two rows (padded widths, rectangular and off-diagonal blocks)', () => {
  const rng = new Rng(3);
  for (const width of [1, 6, 128]) {
    const n = 23;
    const v = Float32Array.from({ length: n * width }, () => rng.normal());
    const gram = new GramBlocks(v, n, width, 8);
    for (const [iLo, iHi, jLo, jHi] of [[0, 8, 0, 8], [3, 10, 15, 23], [16, 23, 2, 5]]) {
      const block = gram.block(iLo, iHi, jLo, jHi);
      assert.equal(block.length, (iHi - iLo) * (jHi - jLo));
      for (let i = iLo; i < iHi; i++) {
        for (let j = jLo; j < jHi; j++) {
          let s = 0;
          for (let k = 0; k < width; k++) s += v[i * width + k] * v[j * width + k];
          const got = block[(i - iLo) * (jHi - jLo) + (j - jLo)];
          assert.ok(Math.abs(got - s) <= 1e-5 * (1 + Math.abs(s)), `width ${width}, (${i}, ${j}): ${got} vs ${s}`);
        }
      }
    }
    assert.throws(() => gram.block(0, 9, 0, 1), /block larger than 8/);
  }
  assert.throws(() => new GramBlocks(new Float32Array(5), 2, 3, 4), /expected 2×3 values, got 5/);
});

test('gram blocks: bit for bit the four-lane float32 sum (lane l takes elements 4t + l; lanes added 0 + 1, + 2, + 3)', () => {
  const rng = new Rng(8);
  const f = Math.fround;
  for (const width of [4, 7, 128]) {
    const n = 19;
    const padded = Math.ceil(width / 4) * 4;
    const v = Float32Array.from({ length: n * width }, () => rng.normal());
    const gram = new GramBlocks(v, n, width, 19);
    const at = (r: number, k: number): number => (k < width ? v[r * width + k] : 0);
    for (const [iLo, iHi, jLo, jHi] of [[0, 19, 0, 19], [2, 9, 3, 18], [5, 6, 0, 19], [0, 3, 7, 9]]) {
      const block = gram.block(iLo, iHi, jLo, jHi);
      for (let i = iLo; i < iHi; i++) {
        for (let j = jLo; j < jHi; j++) {
          const lanes = [0, 0, 0, 0];
          for (let k = 0; k < padded; k++) lanes[k % 4] = f(lanes[k % 4] + f(at(i, k) * at(j, k)));
          const expected = f(f(f(lanes[0] + lanes[1]) + lanes[2]) + lanes[3]);
          assert.equal(block[(i - iLo) * (jHi - jLo) + (j - jLo)], expected, `width ${width}, (${i}, ${j})`);
        }
      }
    }
  }
});
