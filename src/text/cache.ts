/**
 * Embeddings cached on disk, keyed by (encoder id, text): texts are encoded once per user and
 * model, across runs. One file per encoder id in `dir`, named by a hash of the id:
 *   'FEDREC-EMB-1\n' | uint32 header length | JSON header {encoder, dim, keys} | float32 rows
 * where keys[k] is the SHA-256 of text k. New entries are merged and the file rewritten through a
 * temporary file and a rename, so a crash never leaves a half-written cache.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TextEncoder } from './types.js';

const MAGIC = 'FEDREC-EMB-1\n';

interface Header {
  readonly encoder: string;
  readonly dim: number;
  readonly keys: string[];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class CachedEncoder implements TextEncoder {
  readonly id: string;
  readonly dim: number;
  readonly file: string;
  private entries: Map<string, Float32Array> | null = null;

  constructor(
    private readonly inner: TextEncoder,
    dir: string,
  ) {
    this.id = inner.id;
    this.dim = inner.dim;
    this.file = join(dir, `${sha256(inner.id).slice(0, 24)}.emb`);
  }

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    const entries = this.load();
    const keys = texts.map(sha256);
    const missing: string[] = [];
    const missingKeys: string[] = [];
    keys.forEach((k, n) => {
      if (!entries.has(k) && !missingKeys.includes(k)) {
        missingKeys.push(k);
        missing.push(texts[n]);
      }
    });
    if (missing.length > 0) {
      const vectors = await this.inner.encode(missing);
      missingKeys.forEach((k, n) => entries.set(k, vectors[n]));
      this.save(entries);
    }
    return keys.map((k) => entries.get(k)!.slice());
  }

  private load(): Map<string, Float32Array> {
    if (this.entries) return this.entries;
    const entries = new Map<string, Float32Array>();
    let buf: Buffer | null = null;
    try {
      buf = readFileSync(this.file);
    } catch {
      // no cache yet
    }
    if (buf) {
      if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) throw new Error(`embedding cache ${this.file}: not a fedrec embedding cache (bad magic); delete it`);
      const length = buf.readUInt32LE(MAGIC.length);
      const start = MAGIC.length + 4;
      const header = JSON.parse(buf.subarray(start, start + length).toString('utf8')) as Header;
      if (header.encoder !== this.id || header.dim !== this.dim) {
        throw new Error(`embedding cache ${this.file}: holds '${header.encoder}' (${header.dim}-d), expected '${this.id}' (${this.dim}-d); delete it`);
      }
      const body = start + length;
      if (buf.length !== body + header.keys.length * this.dim * 4) throw new Error(`embedding cache ${this.file}: truncated; delete it`);
      const values = new Float32Array(buf.buffer.slice(buf.byteOffset + body, buf.byteOffset + buf.length)); // [keys, dim]
      header.keys.forEach((k, n) => entries.set(k, values.subarray(n * this.dim, (n + 1) * this.dim)));
    }
    this.entries = entries;
    return entries;
  }

  private save(entries: Map<string, Float32Array>): void {
    const keys = [...entries.keys()];
    const header = Buffer.from(JSON.stringify({ encoder: this.id, dim: this.dim, keys } satisfies Header), 'utf8');
    const values = new Float32Array(keys.length * this.dim);
    keys.forEach((k, n) => values.set(entries.get(k)!, n * this.dim));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC, 'utf8'), len, header, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
    renameSync(tmp, this.file);
  }
}
