/**
 * The WebAssembly kernels against plain loops (gemm with a transposed operand, the InfoNCE softmax
 * with its polynomial exp, squared distances; spmm is tested through math/sparse.ts), and
 * bit-identical results with and without a helper thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { KernelHeap, type HeapMatrix } from './heap.js';

function filled(heap: KernelHeap, rows: number, cols: number, rng: Rng): { m: HeapMatrix; v: Float32Array } {
  const m = heap.matrix(rows, cols);
  const v = heap.f32(m.at, rows * cols);
  for (let k = 0; k < v.length; k++) v[k] = rng.normal();
  return { m, v };
}

/** C = X·Y and D = Xᵀ·C' (X read through a transposed view) on a heap; returns copies of C and D. */
function products(heap: KernelHeap, m: number, n: number, k: number): { c: Float32Array; d: Float32Array; x: Float32Array; y: Float32Array } {
  const rng = new Rng(3);
  heap.frame();
  const x = filled(heap, m, k, rng);
  const y = filled(heap, k, n, rng);
  const c = heap.matrix(m, n);
  heap.gemm(m, n, k, x.m, y.m, c);
  const d = heap.matrix(k, n);
  heap.gemm(k, n, m, { at: x.m.at, row: 1, col: k }, c, d); // Xᵀ [k, m] · C [m, n]
  return { c: heap.f32(c.at, m * n).slice(), d: heap.f32(d.at, k * n).slice(), x: x.v.slice(), y: y.v.slice() };
}

test('gemm: X·Y and Xᵀ·C match plain loops', () => {
  const [m, n, k] = [8, 16, 12];
  const { c, d, x, y } = products(new KernelHeap(0), m, n, k);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += x[i * k + p] * y[p * n + j];
    assert.ok(Math.abs(c[i * n + j] - s) < 1e-5, `C[${i}, ${j}]`);
  }
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += x[i * k + p] * c[i * n + j];
    assert.ok(Math.abs(d[p * n + j] - s) < 1e-4 * Math.max(1, Math.abs(s)), `D[${p}, ${j}]`);
  }
});

test('softmax kernel: exp within float32 rounding of Math.exp, gradient rows w·(softmax − onehot)/τ', () => {
  const heap = new KernelHeap(0);
  heap.frame();
  const rows = 3;
  const width = 12;
  const invT = 5;
  const s = heap.matrix(rows, width);
  const v = heap.f32(s.at, rows * width);
  const raw = Float64Array.from({ length: rows * width }, (_, q) => Math.sin(q) * 4);
  v.set(raw);
  v.fill(-Infinity, width - 2, width); // padding columns of row 0
  const weights = heap.alloc(4 * rows);
  const positives = heap.alloc(4 * rows);
  const sums = heap.alloc(4 * rows);
  const maxes = heap.alloc(4 * rows);
  heap.f32(weights, rows).set([1, 0.5, 2]);
  heap.i32(positives, rows).set([3, 0, 11]);
  heap.softmax(s, rows, width, invT, weights, positives, sums, maxes);
  for (let a = 0; a < rows; a++) {
    const valid = a === 0 ? width - 2 : width;
    const row = Array.from(raw.subarray(a * width, a * width + valid), (x) => Math.fround(x));
    const max = Math.max(...row);
    const e = row.map((x) => Math.exp((x - max) * invT));
    const sum = e.reduce((t, x) => t + x, 0);
    const w = [1, 0.5, 2][a];
    const p = [3, 0, 11][a];
    assert.equal(heap.f32(maxes, rows)[a], max);
    assert.ok(Math.abs(heap.f32(sums, rows)[a] - sum) < 1e-6 * sum, `sum of row ${a}`);
    for (let j = 0; j < width; j++) {
      const expected = j < valid ? w * invT * (e[j] / sum - (j === p ? 1 : 0)) : 0;
      assert.ok(Math.abs(v[a * width + j] - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `G[${a}, ${j}]: ${v[a * width + j]} vs ${expected}`);
    }
  }
});

test('sqdist: squared distances of every row to one row', () => {
  const heap = new KernelHeap(0);
  heap.frame();
  const { m, v } = filled(heap, 5, 8, new Rng(4));
  const out = heap.alloc(4 * 5);
  heap.sqdist(m, 5, 8, m.at + 4 * 2 * 8, out);
  for (let r = 0; r < 5; r++) {
    let s = 0;
    for (let f = 0; f < 8; f++) s += (v[r * 8 + f] - v[2 * 8 + f]) ** 2;
    assert.ok(Math.abs(heap.f32(out, 5)[r] - s) < 1e-5 * Math.max(1, s), `row ${r}`);
  }
  assert.equal(heap.f32(out, 5)[2], 0);
});

test('kernels give bit-identical results with a helper thread (large calls are split between threads)', () => {
  const [m, n, k] = [512, 128, 96]; // 6.3 M multiply-adds per product: above the parallel threshold
  const alone = products(new KernelHeap(0), m, n, k);
  const shared = new KernelHeap(1);
  for (let rep = 0; rep < 5; rep++) {
    const split = products(shared, m, n, k);
    assert.deepEqual(split.c, alone.c);
    assert.deepEqual(split.d, alone.d);
  }
});
