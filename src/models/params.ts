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

/** Touched rows of one row index (users or items): a mark per row and the list of marked rows. */
class TouchedRows {
  readonly marks: Uint8Array;
  readonly list: Int32Array;
  count = 0;
  constructor(rows: number) {
    this.marks = new Uint8Array(rows);
    this.list = new Int32Array(rows);
  }
  touch(row: number): void {
    if (this.marks[row] === 0) {
      this.marks[row] = 1;
      this.list[this.count++] = row;
    }
  }
  rows(): Int32Array {
    return this.list.subarray(0, this.count);
  }
  clear(): void {
    for (let k = 0; k < this.count; k++) this.marks[this.list[k]] = 0;
    this.count = 0;
  }
}

/**
 * Row-sparse gradient accumulator over a model's tables. Touched rows are tracked once per row
 * index (users, items), so `touchedRows` is a view and `reset` zeroes only what was written.
 */
export class RowSparseGrads implements Grads {
  readonly values: Record<string, Float32Array> = {};
  private readonly users: TouchedRows;
  private readonly items: TouchedRows;
  private readonly tracker: Record<string, TouchedRows | null> = {};
  private readonly allRows: Record<string, Int32Array> = {};
  private readonly cols: Record<string, number> = {};

  constructor(info: readonly ParamInfo[]) {
    const rowsOf = (index: ParamInfo['index']) => info.find((p) => p.index === index)?.rows ?? 0;
    this.users = new TouchedRows(rowsOf('user'));
    this.items = new TouchedRows(rowsOf('item'));
    for (const p of info) {
      this.values[p.name] = new Float32Array(p.rows * p.cols);
      this.cols[p.name] = p.cols;
      this.tracker[p.name] = p.index === 'user' ? this.users : p.index === 'item' ? this.items : null;
      if (p.index === 'dense') this.allRows[p.name] = Int32Array.from({ length: p.rows }, (_, r) => r);
    }
  }

  touch(name: string, row: number): void {
    this.tracker[name]?.touch(row);
  }

  touchUser(u: number): void {
    this.users.touch(u);
  }

  touchItem(i: number): void {
    this.items.touch(i);
  }

  width(name: string): number {
    return this.cols[name];
  }

  touchedRows(name: string): Int32Array {
    return this.tracker[name]?.rows() ?? this.allRows[name];
  }

  reset(): void {
    for (const name in this.values) {
      const v = this.values[name];
      const tracker = this.tracker[name];
      if (!tracker) {
        v.fill(0);
        continue;
      }
      const c = this.cols[name];
      const list = tracker.list;
      for (let k = 0, n = tracker.count; k < n; k++) {
        const start = list[k] * c;
        for (let j = start, end = start + c; j < end; j++) v[j] = 0;
      }
    }
    this.users.clear();
    this.items.clear();
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
