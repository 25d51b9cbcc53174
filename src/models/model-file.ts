/**
 * A trained model on disk: one file holding a JSON header (model config, sizes, raw ids, each
 * user's training items so recommendations skip what was seen, item titles when known) followed by
 * every table as little-endian float32. Written to a temporary file and renamed, so a crash never
 * leaves a half-written model.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createModel } from './registry.js';
import { DataError } from '../data/errors.js';
import type { ModelConfig, RecModel } from './types.js';

const MAGIC = 'FEDREC-MODEL-1\n';

export interface ModelFileHeader {
  readonly config: ModelConfig;
  readonly nUsers: number;
  readonly nItems: number;
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly itemTitles?: readonly string[];
  /** Per-user training items (dense ids), to exclude from recommendations. */
  readonly seen: readonly (readonly number[])[];
  readonly tables: readonly { name: string; scope: 'global' | 'local'; length: number }[];
}

export function saveModelFile(path: string, model: RecModel, meta: Omit<ModelFileHeader, 'config' | 'nUsers' | 'nItems' | 'tables'>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeModelFile(model, meta));
  renameSync(tmp, path);
}

/** The bytes of a model file (what `saveModelFile` writes). */
export function encodeModelFile(model: RecModel, meta: Omit<ModelFileHeader, 'config' | 'nUsers' | 'nItems' | 'tables'>): Buffer {
  const tables = model.info.map((p) => ({ name: p.name, scope: p.scope, length: p.rows * p.cols }));
  const header: ModelFileHeader = { ...meta, config: model.config, nUsers: model.nUsers, nItems: model.nItems, tables };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Buffer[] = [Buffer.from(MAGIC, 'utf8'), uint32(headerBytes.length), headerBytes];
  for (const p of model.info) {
    const arr = (p.scope === 'local' ? model.params.local : model.params.global)[p.name];
    parts.push(float32le(arr));
  }
  return Buffer.concat(parts);
}

export function loadModelFile(path: string): { model: RecModel; header: ModelFileHeader } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(path, undefined, e.code === 'ENOENT' ? 'no such model file' : `cannot read the model file (${e.code ?? e.message})`);
  }
  if (buf.length < MAGIC.length + 4 || buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) {
    throw new DataError(path, undefined, 'not a fedrec model file (fedrec train --save writes one)');
  }
  const headerLength = buf.readUInt32LE(MAGIC.length);
  let offset = MAGIC.length + 4;
  let header: ModelFileHeader;
  try {
    header = JSON.parse(buf.subarray(offset, offset + headerLength).toString('utf8')) as ModelFileHeader;
  } catch {
    throw new DataError(path, undefined, 'corrupt model file: its header is not valid JSON');
  }
  offset += headerLength;
  const global: Record<string, Float32Array> = {};
  const local: Record<string, Float32Array> = {};
  for (const t of header.tables) {
    const bytes = t.length * 4;
    if (offset + bytes > buf.length) throw new DataError(path, undefined, `truncated model file: table '${t.name}' is cut short`);
    const arr = new Float32Array(t.length);
    for (let k = 0; k < t.length; k++) arr[k] = buf.readFloatLE(offset + 4 * k);
    offset += bytes;
    (t.scope === 'local' ? local : global)[t.name] = arr;
  }
  const model = createModel(header.config, header.nUsers, header.nItems, { global, local });
  return { model, header };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function float32le(arr: Float32Array): Buffer {
  const b = Buffer.alloc(arr.length * 4);
  for (let k = 0; k < arr.length; k++) b.writeFloatLE(arr[k], 4 * k);
  return b;
}
