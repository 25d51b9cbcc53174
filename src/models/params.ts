/**
 * Parameter plumbing shared by all models: allocating and initialising tables from `ParamInfo`,
 * row-sparse gradient accumulators, and gathering / scattering the rows a client works on.
 */
import { Rng } from '../math/rng.js';
import { fillNormal, fillUniform } from '../math/kernels.js';
import type { Grads, GlobalParams, LocalParams, ParamInfo, Params } from './types.js';

export function paramInfo(name: string, rows: number, cols: number, index: ParamInfo['index']): ParamInfo {
  return { name, rows, cols, index, scope: index === 'user' ? 'local' : 'global' };
}

/**
 * Allocate tables: embeddings ~ N(0, initStd²), dense weights Glorot-uniform, biases (names ending
 * in 'Bias' or '.b') zero.
 */
export function initParams(info: readonly ParamInfo[], initStd: number, rng: Rng): Params {
  const global: Record<string, Float32Array> = {};
  const local: Record<string, Float32Array> = {};
  for (const p of info) {
    const arr = new Float32Array(p.rows * p.cols);
    const isBias = p.name.endsWith('Bias') || p.name.endsWith('.b');
    if (!isBias) {
      if (p.index === 'dense') fillUniform(arr, Math.sqrt(6 / (p.rows + p.cols)), rng);
      else fillNormal(arr, initStd, rng);
    }
    (p.scope === 'local' ? local : global)[p.name] = arr;
  }
  return { global, local };
}

/** Check that `params` holds every table of `info` with the right length. */
export function checkParams(info: readonly ParamInfo[], params: Params): void {
  for (const p of info) {
    const arr = (p.scope === 'local' ? params.local : params.global)[p.name];
    if (!arr) throw new Error(`missing ${p.scope} parameter '${p.name}'`);
    if (arr.length !== p.rows * p.cols) {
      throw new Error(`parameter '${p.name}' has ${arr.length} values, expected ${p.rows}×${p.cols}`);
    }
  }
}

export function paramOf(params: Params, p: ParamInfo): Float32Array {
  return (p.scope === 'local' ? params.local : params.global)[p.name];
}

/**
 * Row-sparse gradient accumulator over a model's tables. Touched rows are kept in a per-table
 * list (and a mark per row), so `touchedRows` is a view and `reset` zeroes only what was written.
 */
export class RowSparseGrads implements Grads {
  readonly values: Record<string, Float32Array> = {};
  private readonly marks: Record<string, Uint8Array> = {};
  private readonly lists: Record<string, Int32Array> = {};
  private readonly counts: Record<string, number> = {};
  private readonly dense: Record<string, Int32Array> = {};
  private readonly cols: Record<string, number> = {};

  constructor(info: readonly ParamInfo[]) {
    for (const p of info) {
      this.values[p.name] = new Float32Array(p.rows * p.cols);
      this.cols[p.name] = p.cols;
      if (p.index === 'dense') {
        this.dense[p.name] = Int32Array.from({ length: p.rows }, (_, r) => r);
      } else {
        this.marks[p.name] = new Uint8Array(p.rows);
        this.lists[p.name] = new Int32Array(p.rows);
        this.counts[p.name] = 0;
      }
    }
  }

  touch(name: string, row: number): void {
    const mark = this.marks[name];
    if (mark !== undefined && mark[row] === 0) {
      mark[row] = 1;
      this.lists[name][this.counts[name]++] = row;
    }
  }

  width(name: string): number {
    return this.cols[name];
  }

  touchedRows(name: string): Int32Array {
    return this.dense[name] ?? this.lists[name].subarray(0, this.counts[name]);
  }

  reset(): void {
    for (const name in this.values) {
      const v = this.values[name];
      if (this.dense[name] !== undefined) {
        v.fill(0);
        continue;
      }
      const c = this.cols[name];
      const list = this.lists[name];
      const mark = this.marks[name];
      for (let k = 0, n = this.counts[name]; k < n; k++) {
        const r = list[k];
        mark[r] = 0;
        for (let j = r * c, end = j + c; j < end; j++) v[j] = 0;
      }
      this.counts[name] = 0;
    }
  }
}

/** Copy rows `rows` of table [*, cols] into a new compact table [rows.length, cols]. */
export function gatherRows(table: Float32Array, cols: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * cols);
  for (let k = 0; k < rows.length; k++) {
    const src = rows[k] * cols;
    const dst = k * cols;
    for (let f = 0; f < cols; f++) out[dst + f] = table[src + f];
  }
  return out;
}

/** Deep copy of a parameter set. */
export function cloneParams(params: Params): Params {
  const copy = (src: Record<string, Float32Array>) =>
    Object.fromEntries(Object.entries(src).map(([k, v]) => [k, v.slice()]));
  return { global: copy(params.global) as GlobalParams, local: copy(params.local) as LocalParams };
}
