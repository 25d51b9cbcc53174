/**
 * The TextEncoder contract, run against every implementation: the hashing encoder, the offline
 * Universal Sentence Encoder, and transformers.js on a tiny model this test writes (no download).
 * Also: the transformers missing-model error names the model, the cache dir and the way out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashingEncoder } from './hash.js';
import { UseEncoder } from './use.js';
import { TransformersEncoder } from './transformers.js';
import { writeTinyTransformersModel } from './fixtures.js';
import type { TextEncoder } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'fedrec-text-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const TEXTS = ['I love this film', 'This movie is great', 'The stock market fell sharply', 'I love this film', 'a'];

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, k) => s + v * b[k], 0);

const encoders: Array<[string, () => Promise<TextEncoder>]> = [
  ['hash', async () => new HashingEncoder(64, 7)],
  ['use', () => UseEncoder.load()],
  ['transformers (tiny local model)', () => TransformersEncoder.load({ model: writeTinyTransformersModel(root), cacheDir: join(root, 'cache'), allowRemote: false })],
];

for (const [name, make] of encoders) {
  test(`encoder contract: ${name}`, async () => {
    const enc = await make();
    assert.ok(enc.id.length > 0);
    const out = await enc.encode(TEXTS);
    assert.equal(out.length, TEXTS.length);
    for (const v of out) {
      assert.ok(v instanceof Float32Array);
      assert.equal(v.length, enc.dim);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4, 'unit norm');
    }
    assert.ok(cos(out[0], out[3]) > 0.9999, 'same text, same vector');
    const one = await enc.encode([TEXTS[1]]);
    assert.ok(cos(one[0], out[1]) > 0.9999, 'independent of the batch it is in');
    assert.deepEqual(await enc.encode([]), []);
  });
}

test('USE: related sentences are closer than unrelated ones', async () => {
  const enc = await UseEncoder.load();
  const [film, movie, finance] = await enc.encode(TEXTS.slice(0, 3));
  assert.equal(enc.dim, 512);
  assert.ok(cos(film, movie) > cos(film, finance) + 0.3, `${cos(film, movie)} vs ${cos(film, finance)}`);
});

test('transformers: a missing model fails with the id, the cache dir and what to do', async () => {
  const cacheDir = join(root, 'empty-cache');
  await assert.rejects(
    TransformersEncoder.load({ model: 'Xenova/all-MiniLM-L6-v2', cacheDir, allowRemote: false }),
    (err: Error) => err.message.includes("'Xenova/all-MiniLM-L6-v2'") && err.message.includes(cacheDir) && /hubs are unreachable/.test(err.message) && /--encoder use/.test(err.message),
  );
  await assert.rejects(
    TransformersEncoder.load({ model: join(root, 'no-such-dir'), cacheDir }),
    (err: Error) => err.message.includes(join(root, 'no-such-dir')),
  );
});

test('transformers is optional: without the package, one line says how to install it or which encoder to use', async () => {
  const { loadTransformersPackage, MissingPackageError } = await import('./transformers.js');
  await assert.rejects(loadTransformersPackage('@huggingface/transformers-not-installed'), (err: unknown) =>
    err instanceof MissingPackageError && /needs the optional package @huggingface\/transformers-not-installed, which is not installed: npm install .* or use --encoder use/.test(err.message));
});
