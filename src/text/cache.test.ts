/** Embedding cache: round trip through disk, encoding only what is missing, atomic file, bad files named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedEncoder } from './cache.js';
import { HashingEncoder } from './hash.js';
import type { TextEncoder } from './types.js';

class Counting implements TextEncoder {
  calls: string[] = [];
  constructor(private readonly inner: TextEncoder) {}
  get id() { return this.inner.id; }
  get dim() { return this.inner.dim; }
  async encode(texts: readonly string[]) {
    this.calls.push(...texts);
    return this.inner.encode(texts);
  }
}

test('cache round trip: a new process reads what an earlier one wrote, encoding only new texts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-cache-'));
  try {
    const first = new Counting(new HashingEncoder(16));
    const a = await new CachedEncoder(first, dir).encode(['alpha beta', 'gamma', 'alpha beta']);
    assert.deepEqual(first.calls, ['alpha beta', 'gamma']);
    const second = new Counting(new HashingEncoder(16));
    const cached = new CachedEncoder(second, dir);
    const b = await cached.encode(['gamma', 'alpha beta', 'delta']);
    assert.deepEqual(second.calls, ['delta']);
    assert.deepEqual([...b[0]], [...a[1]]);
    assert.deepEqual([...b[1]], [...a[0]]);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
    // another model never reads this model's entries
    const other = new Counting(new HashingEncoder(16, 99));
    await new CachedEncoder(other, dir).encode(['gamma']);
    assert.deepEqual(other.calls, ['gamma']);
    writeFileSync(cached.file, 'garbage');
    await assert.rejects(new CachedEncoder(new HashingEncoder(16), dir).encode(['x']), /bad magic/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
