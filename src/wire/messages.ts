/**
 * The tensor messages, on top of the codec:
 *  - update: a client's `GlobalUpdate` (sorted item ids `rows` as i32, item-table deltas of those
 *    rows and dense-table deltas as f32);
 *  - model: the global tables after `version` completed rounds;
 *  - state: an optimiser's state (the coordinator's server optimiser, checkpointed with the model;
 *    stored, never sent).
 * Decoding here checks structure only (which sections exist, their dtypes); whether an update fits
 * the model (shapes, index range, finite values, norm) is the coordinator's validation.
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';
import { packHalf, packQ8, quantizedTable, unpackHalf, unpackQ8, type DownloadPrecision } from './quantize.js';
import type { GlobalUpdate } from '../federated/types.js';
import { isGraphUpdate, type UserUpload } from '../federated/personal-types.js';
import { decodeMessage, encodeMessage } from './codec.js';
import type { OptimizerState } from '../optim/types.js';
import { WireError, type Limits, type ModelHeader, type SectionSpec, type StateHeader, type Tensor, type UpdateHeader } from './types.js';

export const ROWS_SECTION = 'rows';

export function encodeUpdate(update: GlobalUpdate): Uint8Array {
  const sections: SectionSpec[] = [{ name: ROWS_SECTION, dtype: 'i32', length: update.rows.length, role: 'index' }];
  const tensors: Tensor[] = [update.rows];
  for (const [name, t] of Object.entries(update.itemTables)) {
    sections.push({ name, dtype: 'f32', length: t.length, role: 'item' });
    tensors.push(t);
  }
  for (const [name, t] of Object.entries(update.denseTables)) {
    sections.push({ name, dtype: 'f32', length: t.length, role: 'dense' });
    tensors.push(t);
  }
  if (isGraphUpdate(update)) addUserSections(update.users, sections, tensors);
  const header: UpdateHeader = { kind: 'update', round: update.round, weight: update.weight, loss: update.loss, sections };
  return encodeMessage(header, tensors);
}

/**
 * Graph aggregation's per-user uploads (federated/personal-types.ts `UserUpload`), concatenated over
 * the client's users: 'users.id' (i32, the user's index on the device), 'users.rowCount' (i32),
 * 'users.rows' (i32, each user's sorted item ids in turn), 'users.items' (f32, those rows),
 * 'users.vector' (f32, each user's vec(W_u) in turn) and 'users.weight' (f32, examples per user).
 */
export const USER_SECTIONS = ['users.id', 'users.rowCount', 'users.rows', 'users.items', 'users.vector', 'users.weight'] as const;

function addUserSections(users: readonly UserUpload[], sections: SectionSpec[], tensors: Tensor[]): void {
  const cat = <T extends Float32Array | Int32Array>(make: (n: number) => T, parts: readonly T[]): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const values: Tensor[] = [
    Int32Array.from(users, (u) => u.user),
    Int32Array.from(users, (u) => u.rows.length),
    cat((n) => new Int32Array(n), users.map((u) => u.rows)),
    cat((n) => new Float32Array(n), users.map((u) => u.itemRows)),
    cat((n) => new Float32Array(n), users.map((u) => u.weightVector)),
    Float32Array.from(users, (u) => u.weight),
  ];
  USER_SECTIONS.forEach((name, k) => {
    sections.push({ name, dtype: values[k] instanceof Int32Array ? 'i32' : 'f32', length: values[k].length });
    tensors.push(values[k]);
  });
}

/** The per-user uploads of a graph update, split back per user; throws WireError when the sections do not fit together. */
function readUserSections(found: ReadonlyMap<string, Tensor>): UserUpload[] {
  const get = <T extends Tensor>(name: string, type: 'i32' | 'f32'): T => {
    const t = found.get(name);
    if (!t || (type === 'i32') !== t instanceof Int32Array) throw new WireError(`graph update: section '${name}' (${type}) is missing or of the wrong type`);
    return t as T;
  };
  const ids = get<Int32Array>('users.id', 'i32');
  const counts = get<Int32Array>('users.rowCount', 'i32');
  const rows = get<Int32Array>('users.rows', 'i32');
  const items = get<Float32Array>('users.items', 'f32');
  const vectors = get<Float32Array>('users.vector', 'f32');
  const weights = get<Float32Array>('users.weight', 'f32');
  const n = ids.length;
  if (counts.length !== n || weights.length !== n) throw new WireError(`graph update: ${n} users but ${counts.length} row counts and ${weights.length} weights`);
  let total = 0;
  for (let k = 0; k < n; k++) {
    if (counts[k] < 0) throw new WireError(`graph update: users.rowCount[${k}] = ${counts[k]} is negative`);
    total += counts[k];
  }
  if (rows.length !== total) throw new WireError(`graph update: users.rows has ${rows.length} ids, the row counts add up to ${total}`);
  const d = total === 0 ? 0 : items.length / total;
  if (!Number.isInteger(d) || (total === 0 && items.length !== 0)) throw new WireError(`graph update: users.items has ${items.length} values for ${total} rows`);
  const width = n === 0 ? 0 : vectors.length / n;
  if (!Number.isInteger(width)) throw new WireError(`graph update: users.vector has ${vectors.length} values for ${n} users`);
  const out: UserUpload[] = [];
  let at = 0;
  for (let k = 0; k < n; k++) {
    const c = counts[k];
    out.push({
      user: ids[k],
      rows: rows.subarray(at, at + c),
      itemRows: items.subarray(at * d, (at + c) * d),
      weightVector: vectors.subarray(k * width, (k + 1) * width),
      weight: weights[k],
    });
    at += c;
  }
  return out;
}

/** `views`: tensors may share `bytes`' memory instead of being copies (decodeMessage). */
export function decodeUpdate(bytes: Uint8Array, limits?: Limits, views = false): GlobalUpdate {
  const { header, sections } = decodeMessage(bytes, limits, views);
  if (header.kind !== 'update') throw new WireError(`expected an 'update' message, got '${header.kind}'`);
  const itemTables: Record<string, Float32Array> = {};
  const denseTables: Record<string, Float32Array> = {};
  let rows: Int32Array | null = null;
  const userSections = new Map<string, Tensor>();
  for (const s of header.sections) {
    const t = sections.get(s.name) as Tensor;
    if ((USER_SECTIONS as readonly string[]).includes(s.name)) {
      userSections.set(s.name, t);
      continue;
    }
    if (s.name === ROWS_SECTION) {
      if (s.dtype !== 'i32') throw new WireError(`section '${ROWS_SECTION}' must be i32, got ${s.dtype}`);
      rows = t as Int32Array;
      continue;
    }
    if (s.dtype !== 'f32' || s.packing) throw new WireError(`section '${s.name}' must be f32, got ${s.packing ? `packed ${s.packing} (model downloads only)` : s.dtype}`);
    if (s.role === 'item') itemTables[s.name] = t as Float32Array;
    else if (s.role === 'dense') denseTables[s.name] = t as Float32Array;
    else throw new WireError(`section '${s.name}' needs role 'item' or 'dense', got ${s.role ?? 'none'}`);
  }
  if (!rows) throw new WireError(`update lacks the i32 section '${ROWS_SECTION}' (sorted item ids)`);
  const base = { round: header.round, weight: header.weight, loss: header.loss, rows, itemTables, denseTables };
  return userSections.size > 0 ? ({ ...base, users: readUserSections(userSections) } as GlobalUpdate) : base;
}

/**
 * Encode global tables in the given name order (the model's ParamInfo order). With a `download`
 * precision other than f32, the embedding tables of `download.info` travel packed (quantize.ts).
 */
export function encodeModel(global: GlobalParams, version: number, names: readonly string[], download?: { precision: DownloadPrecision; info: readonly ParamInfo[] }): Uint8Array {
  const sections: SectionSpec[] = [];
  const tensors: Tensor[] = [];
  const packed = new Map((download && download.precision !== 'f32' ? download.info.filter(quantizedTable) : []).map((p) => [p.name, p]));
  for (const name of names) {
    const t = global[name];
    const p = packed.get(name);
    if (!p || !download) {
      sections.push({ name, dtype: 'f32', length: t.length });
      tensors.push(t);
    } else if (download.precision === 'f16') {
      const words = packHalf(t);
      sections.push({ name, dtype: 'i32', length: words.length, packing: 'f16', values: t.length });
      tensors.push(words);
    } else {
      const { words, scales } = packQ8(t, p.cols);
      sections.push({ name, dtype: 'i32', length: words.length, packing: 'q8', values: t.length }, { name: `${name}${SCALE_SUFFIX}`, dtype: 'f32', length: scales.length });
      tensors.push(words, scales);
    }
  }
  const header: ModelHeader = { kind: 'model', version, sections };
  return encodeMessage(header, tensors);
}

const SCALE_SUFFIX = ':scale';

/** Decode a model message; packed tables come back dequantised to float32 (what a device trains on). */
export function decodeModel(bytes: Uint8Array, limits?: Limits): { version: number; global: GlobalParams } {
  const { header, sections } = decodeMessage(bytes, limits);
  if (header.kind !== 'model') throw new WireError(`expected a 'model' message, got '${header.kind}'`);
  const global: Record<string, Float32Array> = {};
  const scales = new Set<string>();
  for (const s of header.sections) {
    const t = sections.get(s.name) as Tensor;
    if (s.packing) {
      const n = s.values ?? -1;
      const perWord = s.packing === 'f16' ? 2 : 4;
      if (s.dtype !== 'i32' || n < 0 || Math.ceil(n / perWord) !== s.length) {
        throw new WireError(`model section '${s.name}': packing '${s.packing}' needs an i32 section of ceil(values / ${perWord}) words and 'values', got ${s.dtype}[${s.length}] with values ${s.values ?? 'missing'}`);
      }
      if (s.packing === 'f16') global[s.name] = unpackHalf(t as Int32Array, n);
      else {
        const scale = sections.get(`${s.name}${SCALE_SUFFIX}`);
        if (!(scale instanceof Float32Array) || scale.length === 0 || n % scale.length !== 0) {
          throw new WireError(`model section '${s.name}': packing 'q8' needs an f32 section '${s.name}${SCALE_SUFFIX}' of one scale per row`);
        }
        scales.add(`${s.name}${SCALE_SUFFIX}`);
        global[s.name] = unpackQ8(t as Int32Array, scale, n);
      }
      continue;
    }
    if (s.dtype !== 'f32') throw new WireError(`model section '${s.name}' must be f32, got ${s.dtype}`);
    global[s.name] = t as Float32Array;
  }
  for (const name of scales) delete global[name];
  return { version: header.version, global };
}

/** Encode an optimiser's state: `step` in the header, one f32 section per 'slot/table'. */
export function encodeState(state: OptimizerState): Uint8Array {
  const entries = Object.entries(state.tables);
  const sections: SectionSpec[] = entries.map(([name, t]) => ({ name, dtype: 'f32', length: t.length }));
  const header: StateHeader = { kind: 'state', step: state.step, sections };
  return encodeMessage(header, entries.map(([, t]) => t));
}

export function decodeState(bytes: Uint8Array, limits?: Limits): OptimizerState {
  const { header, sections } = decodeMessage(bytes, limits);
  if (header.kind !== 'state') throw new WireError(`expected a 'state' message, got '${header.kind}'`);
  const tables: Record<string, Float32Array> = {};
  for (const s of header.sections) {
    if (s.dtype !== 'f32') throw new WireError(`state section '${s.name}' must be f32, got ${s.dtype}`);
    tables[s.name] = sections.get(s.name) as Float32Array;
  }
  return { step: header.step, tables };
}
