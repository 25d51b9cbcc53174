/**
 * A client's compact working copy of the model: the global item tables restricted to the rows it
 * uses (its positives and sampled negatives), the dense layers, and its own local tables. Training
 * touches only this copy; `deltaOf` turns it back into a `GlobalUpdate`. This is what makes a
 * client step cost O(its rows) instead of O(all items).
 */
import { initParams, gatherRows } from '../models/params.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import type { GlobalParams, LocalParams, ModelConfig, ParamInfo, RecModel } from '../models/types.js';
import type { Rng } from '../math/rng.js';
import type { GlobalUpdate } from './types.js';

export interface CompactModel {
  readonly model: RecModel;
  /** Sorted global item ids; compact item k is global item rows[k]. */
  readonly rows: Int32Array;
  /** The server's global tables the compact copy was taken from (unchanged during a round). */
  readonly source: GlobalParams;
  readonly info: readonly ParamInfo[];
}

/** Sorted unique values of several id arrays. */
export function uniqueSorted(lists: readonly Int32Array[]): Int32Array {
  let n = 0;
  for (const l of lists) n += l.length;
  const all = new Int32Array(n);
  let k = 0;
  for (const l of lists) {
    all.set(l, k);
    k += l.length;
  }
  all.sort();
  let m = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[m++] = all[i];
  return all.slice(0, m);
}

/**
 * The sorted distinct items of several id lists (`rows`) and the compact index of each of them,
 * built with one slot per catalogue item: O(ids + nItems), no sort. Same rows as `uniqueSorted`.
 */
export class RowIndex {
  readonly rows: Int32Array;
  /** slot[item] = compact index + 1, 0 for items not among the rows. */
  private readonly slot: Int32Array;

  constructor(lists: readonly Int32Array[], readonly nItems: number) {
    const slot = new Int32Array(nItems);
    let distinct = 0;
    for (const list of lists) {
      for (let k = 0; k < list.length; k++) {
        const item = list[k];
        if (!(item >= 0 && item < nItems)) throw new RangeError(`item ${item} outside [0, ${nItems})`);
        if (slot[item] === 0) {
          slot[item] = 1;
          distinct++;
        }
      }
    }
    const rows = new Int32Array(distinct);
    for (let item = 0, m = 0; m < distinct; item++) {
      if (slot[item] !== 0) {
        rows[m] = item;
        slot[item] = ++m;
      }
    }
    this.rows = rows;
    this.slot = slot;
  }

  /** Each item of `items` (which must be among the rows) replaced by its compact index. */
  toCompact(items: Int32Array): Int32Array {
    const out = new Int32Array(items.length);
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      const s = item >= 0 && item < this.nItems ? this.slot[item] : 0;
      if (s === 0) throw new Error(`item ${item} is not among the client's rows`);
      out[k] = s - 1;
    }
    return out;
  }
}

/** Replace each global item id in `items` by its index in sorted `rows` (which must contain it). */
export function toCompact(items: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(items.length);
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    let lo = 0;
    let hi = rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid] < item) lo = mid + 1;
      else hi = mid;
    }
    if (rows[lo] !== item) throw new Error(`item ${item} is not among the client's rows`);
    out[k] = lo;
  }
  return out;
}

/** Fresh local tables for `nUsers` users of a model config. */
export function freshLocal(config: ModelConfig, nUsers: number, rng: Rng): LocalParams {
  const info = modelParamInfo(config, nUsers, 0).filter((p) => p.scope === 'local');
  return initParams(info, config.initStd ?? 0.01, rng).local;
}

/** Build the compact model over `rows` from the server's global tables and the client's local ones. */
export function compactModel(
  config: ModelConfig,
  global: GlobalParams,
  local: LocalParams,
  nUsers: number,
  rows: Int32Array,
): CompactModel {
  const info = modelParamInfo(config, nUsers, rows.length);
  const compactGlobal: Record<string, Float32Array> = {};
  for (const p of info) {
    if (p.scope === 'local') continue;
    const src = global[p.name];
    if (!src) throw new Error(`global parameters lack table '${p.name}'`);
    const values = p.index === 'item' ? gatherRows(src, p.cols, rows) : src.slice();
    compactGlobal[p.name] = values;
  }
  const model = createModel(config, nUsers, rows.length, { global: compactGlobal, local });
  return { model, rows, source: global, info };
}

/**
 * The update (new − received) of a compact model's global tables: item tables on its rows only,
 * dense tables whole. The received values are read back from the source tables, which the server
 * changes only between rounds. The delta is written over the compact global tables (no copy), so
 * the compact model is spent afterwards; its local tables are untouched.
 */
export function deltaOf(compact: CompactModel, round: number, weight: number, loss: number): GlobalUpdate {
  const itemTables: Record<string, Float32Array> = {};
  const denseTables: Record<string, Float32Array> = {};
  const rows = compact.rows;
  for (const p of compact.info) {
    if (p.scope === 'local') continue;
    const delta = compact.model.params.global[p.name];
    const before = compact.source[p.name];
    if (p.index === 'item') {
      const c = p.cols;
      for (let k = 0; k < rows.length; k++) {
        const src = rows[k] * c;
        const dst = k * c;
        for (let f = 0; f < c; f++) delta[dst + f] -= before[src + f];
      }
      itemTables[p.name] = delta;
    } else {
      for (let k = 0; k < delta.length; k++) delta[k] -= before[k];
      denseTables[p.name] = delta;
    }
  }
  return { round, weight, rows, itemTables, denseTables, loss };
}
