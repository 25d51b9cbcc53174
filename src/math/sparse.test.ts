/** CSR normalisation by hand, SpMM against a dense product, SpMM backward by finite differences. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';
import { normalizedBipartite, spmm, spmmBackward, type Csr } from './sparse.js';

function dense(a: Csr): number[][] {
  const m = Array.from({ length: a.nRows }, () => new Array<number>(a.nCols).fill(0));
  for (let r = 0; r < a.nRows; r++) for (let k = a.indptr[r]; k < a.indptr[r + 1]; k++) m[r][a.indices[k]] += a.values[k];
  return m;
}

function randomCsr(rng: Rng, nRows: number, nCols: number, density: number): Csr {
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) if (rng.next() < density) { indices.push(c); values.push(rng.normal()); }
    indptr[r + 1] = indices.length;
  }
  return { nRows, nCols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

test('normalised bipartite adjacency: entries 1/sqrt(deg u · deg i), symmetric, isolated nodes empty', () => {
  // users 0: items {0, 1}; user 1: item {1}; user 2: none; item 2: none
  const a = normalizedBipartite(3, 3, { indptr: Int32Array.from([0, 2, 3, 3]), indices: Int32Array.from([0, 1, 1]) });
  const m = dense(a);
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-6, `${x} vs ${y}`);
  close(m[0][3], 1 / Math.sqrt(2 * 1));
  close(m[0][4], 1 / Math.sqrt(2 * 2));
  close(m[1][4], 1 / Math.sqrt(1 * 2));
  for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) close(m[r][c], m[c][r]);
  assert.equal(a.indptr[3] - a.indptr[2], 0);
  assert.equal(a.indptr[6] - a.indptr[5], 0);
  assert.equal(a.indices.length, 6);
});

test('normalised bipartite adjacency rejects out-of-range items', () => {
  assert.throws(() => normalizedBipartite(1, 2, { indptr: Int32Array.from([0, 1]), indices: Int32Array.from([2]) }), /item 2 outside/);
});

test('spmm equals the dense product', () => {
  const rng = new Rng(1);
  const a = randomCsr(rng, 7, 5, 0.4);
  const dim = 11; // one 8-wide block and a remainder
  const x = Float32Array.from({ length: 5 * dim }, () => rng.normal());
  const out = new Float32Array(7 * dim);
  spmm(a, x, dim, out);
  const m = dense(a);
  for (let r = 0; r < 7; r++) for (let f = 0; f < dim; f++) {
    let s = 0;
    for (let c = 0; c < 5; c++) s += m[r][c] * x[c * dim + f];
    assert.ok(Math.abs(out[r * dim + f] - s) < 1e-5);
  }
});

test('spmm backward matches finite differences of ⟨w, A·X⟩', () => {
  const rng = new Rng(2);
  const a = randomCsr(rng, 6, 4, 0.5);
  const dim = 2;
  const x = Float64Array.from({ length: 4 * dim }, () => rng.normal());
  const w = Float32Array.from({ length: 6 * dim }, () => rng.normal());
  const lossAt = (v: Float64Array) => {
    const out = new Float32Array(6 * dim);
    spmm(a, Float32Array.from(v), dim, out);
    let s = 0;
    for (let k = 0; k < out.length; k++) s += w[k] * out[k];
    return s;
  };
  const g = new Float32Array(4 * dim);
  spmmBackward(a, w, dim, g);
  const h = 1e-2; // the loss is linear in X: central differences are exact up to float32 rounding
  for (let k = 0; k < x.length; k++) {
    const plus = x.slice(); plus[k] += h;
    const minus = x.slice(); minus[k] -= h;
    const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h);
    assert.ok(Math.abs(numeric - g[k]) < 1e-3 * Math.max(1, Math.abs(g[k])), `entry ${k}: ${numeric} vs ${g[k]}`);
  }
});

test('spmm checks shapes', () => {
  const a = randomCsr(new Rng(3), 2, 3, 1);
  assert.throws(() => spmm(a, new Float32Array(5), 2, new Float32Array(4)), /input has 5 values, expected 3×2/);
});
