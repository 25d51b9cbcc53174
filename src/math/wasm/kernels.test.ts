/**
 * The WebAssembly kernels against plain loops (gemm with a transposed operand, InfoNCE's row step
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

test('infonce kernel: logits, softmax (polynomial exp) into w·(softmax − onehot)/τ, ∂/∂anchors; padding stays 0', () => {
  const heap = new KernelHeap(0);
  heap.frame();
  const rng = new Rng(5);
  const [rows, valid, dim, width, nT, invT] = [4, 3, 8, 16, 13, 5];
  const a = filled(heap, rows, dim, rng);
  a.v.fill(0, valid * dim); // padding anchor row
  const t = filled(heap, width, dim, rng);
  t.v.fill(0, nT * dim); // padding targets
  const tt = heap.matrix(dim, width);
  const ttv = heap.f32(tt.at, dim * width);
  for (let j = 0; j < width; j++) for (let f = 0; f < dim; f++) ttv[f * width + j] = t.v[j * dim + f];
  const s = heap.matrix(rows, width);
  const ga = heap.matrix(rows, dim);
  const w = [1, 0.5, 2];
  const p = [3, 0, 12];
  const at = { weights: heap.alloc(12), positives: heap.alloc(12), sums: heap.alloc(12), maxes: heap.alloc(12), posLogits: heap.alloc(12) };
  heap.f32(at.weights, 3).set(w);
  heap.i32(at.positives, 3).set(p);
  heap.infoNceRows(rows, valid, a.m, tt, s, t.m, ga, dim, width, nT, invT, at);
  const G = heap.f32(s.at, rows * width);
  const gA = heap.f32(ga.at, rows * dim);
  const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) < 1e-5 * Math.max(1, Math.abs(y)), `${what}: ${x} vs ${y}`);
  for (let r = 0; r < valid; r++) {
    const logits = Array.from({ length: nT }, (_, j) => a.v.subarray(r * dim, (r + 1) * dim).reduce((acc, x, f) => acc + x * t.v[j * dim + f], 0));
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp((l - max) * invT));
    const sum = e.reduce((acc, x) => acc + x, 0);
    close(heap.f32(at.maxes, 3)[r], max, `max ${r}`);
    close(heap.f32(at.posLogits, 3)[r], logits[p[r]], `positive logit ${r}`);
    close(heap.f32(at.sums, 3)[r], sum, `sum ${r}`);
    const g = Array.from({ length: width }, (_, j) => (j < nT ? w[r] * invT * (e[j] / sum - (j === p[r] ? 1 : 0)) : 0));
    g.forEach((x, j) => close(G[r * width + j], x, `G[${r}, ${j}]`));
    for (let f = 0; f < dim; f++) close(gA[r * dim + f], g.reduce((acc, x, j) => acc + x * t.v[j * dim + f], 0), `gA[${r}, ${f}]`);
  }
  assert.ok(G.subarray(valid * width).every((x) => x === 0) && gA.subarray(valid * dim).every((x) => x === 0), 'padding row');
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
