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
  const header: UpdateHeader = { kind: 'update', round: update.round, weight: update.weight, loss: update.loss, sections };
  return encodeMessage(header, tensors);
}

/** `views`: tensors may share `bytes`' memory instead of being copies (decodeMessage). */
export function decodeUpdate(bytes: Uint8Array, limits?: Limits, views = false): GlobalUpdate {
  const { header, sections } = decodeMessage(bytes, limits, views);
  if (header.kind !== 'update') throw new WireError(`expected an 'update' message, got '${header.kind}'`);
  const itemTables: Record<string, Float32Array> = {};
  const denseTables: Record<string, Float32Array> = {};
  let rows: Int32Array | null = null;
  for (const s of header.sections) {
    const t = sections.get(s.name) as Tensor;
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
  return { round: header.round, weight: header.weight, loss: header.loss, rows, itemTables, denseTables };
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
