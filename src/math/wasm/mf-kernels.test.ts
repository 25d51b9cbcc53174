/** The MF kernels built for one row width against the generic ones (loops over any width): the same bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { MF_EPOCH_PARAMS, MF_MAX_PAGES, mfKernelModuleBytes } from './mf-kernels.js';

type Kernel = (...args: number[]) => void;

function instance(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): Record<string, Kernel> {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Record<string, Kernel>;
}

test('row kernels built for one width do what the generic loops do, bit for bit', () => {
  for (const dim of [4, 16, 32, 128]) {
    const rowBytes = 4 * dim;
    const [nUsers, nRows, nTable, n] = [3, 20, 40, 61];
    let top = 0;
    const take = (bytes: number): number => {
      const at = top;
      top = (top + bytes + 15) & ~15;
      return at;
    };
    const G = take(nTable * rowBytes);
    const P = take(nUsers * rowBytes);
    const Q = take(nRows * rowBytes);
    const gP = take(nUsers * rowBytes);
    const gQ = take(nRows * rowBytes);
    const rowsAt = take(4 * nRows);
    const users = take(4 * n);
    const items = take(4 * n);
    const labels = take(4 * n);
    const scores = take(4 * n);
    const dScore = take(4 * (n + 4));
    const lists = take(4 * (nUsers + nRows));
    const biases = take(4 * (nUsers + nRows));
    const zeroed = take(8 * (nUsers + nRows)); // bias gradients and marks
    const params = take(MF_EPOCH_PARAMS.bytes);
    const pages = Math.ceil(top / 65536) + 1;
    const run = (bytes: Uint8Array<ArrayBuffer>): Uint8Array => {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: MF_MAX_PAGES });
      const k = instance(bytes, memory);
      const buf = memory.buffer;
      const init = new Rng(7 + dim);
      const f32 = new Float32Array(buf);
      for (const [at, count] of [[G, nTable * dim], [P, nUsers * dim], [biases, nUsers + nRows]]) {
        for (let j = 0; j < count; j++) f32[at / 4 + j] = init.normal() * 0.3;
      }
      const i32 = new Int32Array(buf);
      for (let j = 0; j < nRows; j++) i32[rowsAt / 4 + j] = (j * 7 + 3) % nTable;
      for (let j = 0; j < n; j++) {
        i32[users / 4 + j] = init.int(nUsers);
        i32[items / 4 + j] = init.int(nRows);
        f32[labels / 4 + j] = j % 5 === 0 ? 1 : 0;
      }
      const view = new DataView(buf, params, MF_EPOCH_PARAMS.bytes);
      view.setFloat64(MF_EPOCH_PARAMS.lr, 0.7, true);
      view.setFloat64(MF_EPOCH_PARAMS.weightDecay, 1e-3, true);
      view.setFloat32(MF_EPOCH_PARAMS.globalBias, 0.1, true);
      k.gatherRows(0, nRows, rowsAt, G, Q, rowBytes);
      for (let e = 0; e < 2; e++) {
        k.mfEpoch(n, 8, users, items, labels, scores, dScore, P, Q, gP, gQ, rowBytes, biases, biases + 4 * nUsers, zeroed, zeroed + 4 * nUsers,
          zeroed + 4 * (nUsers + nRows), zeroed + 4 * (2 * nUsers + nRows), lists, lists + 4 * nUsers, params);
      }
      k.subtractRows(0, nRows, rowsAt, G, Q, rowBytes);
      return new Uint8Array(buf, 0, top).slice();
    };
    const generic = run(mfKernelModuleBytes());
    const fixed = run(mfKernelModuleBytes(rowBytes));
    assert.ok(generic.some((b) => b !== 0));
    assert.deepEqual(fixed, generic, `dim ${dim}`);
  }
  assert.throws(() => mfKernelModuleBytes(20), RangeError);
});
