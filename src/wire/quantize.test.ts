/**
 * Quantised model downloads (wire/quantize.ts): half-precision conversion against known bit
 * patterns and its error bound, 8-bit codes within half a step of each value, the packed model
 * message decoding to exactly what the simulation hands its clients (`downloadedModel`), and
 * malformed or misplaced packed sections refused with a WireError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../math/rng.js';
import { paramInfo } from '../models/params.js';
import { decodeModel, decodeUpdate, encodeModel } from './messages.js';
import { encodeMessage } from './codec.js';
import { downloadBytes, downloadedModel, fromHalf, packQ8, toHalf, unpackQ8 } from './quantize.js';
import { WireError } from './types.js';

test('float16: known bit patterns, round to nearest even, subnormals, overflow', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2.5, 0xc100], [0.5, 0x3800], [65504, 0x7bff], [1e6, 0x7c00], [0, 0], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02]];
  for (const [x, bits] of cases) {
    assert.equal(toHalf(x), bits, `toHalf(${x})`);
    if (bits !== 0x7c00) assert.equal(fromHalf(bits), Math.abs(x) < 2 ** -24 ? 0 : Math.fround(fromHalf(bits)));
  }
  const rng = new Rng(1);
  for (let k = 0; k < 2000; k++) {
    const x = (rng.next() - 0.5) * 8;
    const y = fromHalf(toHalf(x));
    assert.ok(Math.abs(y - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `${x} → ${y}`);
  }
});

test('q8: every value within half a step of its row scale; zero rows stay zero', () => {
  const rng = new Rng(2);
  const cols = 16;
  const values = Float32Array.from({ length: 5 * cols }, (_, k) => (k < cols ? 0 : (rng.next() - 0.5) * (k % 7)));
  const { words, scales } = packQ8(values, cols);
  const back = unpackQ8(words, scales, values.length);
  for (let k = 0; k < values.length; k++) assert.ok(Math.abs(back[k] - values[k]) <= scales[Math.floor(k / cols)] / 2 + 1e-7, `[${k}] ${values[k]} → ${back[k]}`);
  for (let k = 0; k < cols; k++) assert.equal(back[k], 0);
});

test('a packed model message decodes to downloadedModel; sizes as downloadBytes counts them', () => {
  const rng = new Rng(3);
  const info = [paramInfo('itemEmb', 50, 16, 'item'), paramInfo('itemBias', 50, 1, 'item'), paramInfo('globalBias', 1, 1, 'dense')];
  const global = {
    itemEmb: Float32Array.from({ length: 800 }, () => rng.next() - 0.5),
    itemBias: Float32Array.from({ length: 50 }, () => rng.next()),
    globalBias: new Float32Array([0.25]),
  };
  const names = info.map((p) => p.name);
  const f32 = encodeModel(global, 3, names).length;
  for (const precision of ['f16', 'q8'] as const) {
    const bytes = encodeModel(global, 3, names, { precision, info });
    const decoded = decodeModel(bytes);
    const expected = downloadedModel(global, info, precision);
    assert.deepEqual(Object.keys(decoded.global).sort(), names.slice().sort());
    for (const n of names) assert.deepEqual(decoded.global[n], expected[n], `${precision} ${n}`);
    assert.deepEqual(decoded.global.itemBias, global.itemBias, 'tables other than item embeddings stay float32');
    assert.ok(bytes.length < f32, `${precision}: ${bytes.length} bytes vs ${f32}`);
    assert.equal(f32 - bytes.length - (downloadBytes(global, info, 'f32') - downloadBytes(global, info, precision)) < 200, true, 'difference is the values (headers aside)');
  }
});

test('packed sections: refused in updates, and when their length or scales do not fit', () => {
  const words = new Int32Array(2);
  const packed = (values: number) => encodeMessage({ kind: 'model', version: 1, sections: [{ name: 'itemEmb', dtype: 'i32', length: 2, packing: 'f16', values }] }, [words]);
  assert.equal(decodeModel(packed(4)).global.itemEmb.length, 4);
  assert.throws(() => decodeModel(packed(7)), (e: unknown) => e instanceof WireError && /packing 'f16' needs .* ceil\(values \/ 2\)/.test(e.message));
  const q8 = encodeMessage({ kind: 'model', version: 1, sections: [{ name: 'itemEmb', dtype: 'i32', length: 2, packing: 'q8', values: 8 }] }, [words]);
  assert.throws(() => decodeModel(q8), (e: unknown) => e instanceof WireError && /'itemEmb:scale' of one scale per row/.test(e.message));
  const update = encodeMessage({ kind: 'update', round: 1, weight: 1, loss: 0, sections: [{ name: 'rows', dtype: 'i32', length: 0, role: 'index' }, { name: 'itemEmb', dtype: 'i32', length: 2, role: 'item', packing: 'f16', values: 4 }] }, [new Int32Array(0), words]);
  assert.throws(() => decodeUpdate(update), (e: unknown) => e instanceof WireError && /packed f16 \(model downloads only\)/.test(e.message));
});
