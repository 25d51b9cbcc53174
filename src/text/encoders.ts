/**
 * Builds the configured text encoder (offline USE by default, transformers.js, or hashing), wrapped
 * in the on-disk embedding cache (`<cacheRoot>/embeddings`; default `$FEDREC_CACHE` or
 * `~/.cache/fedrec`), so each user's text is encoded once per model.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CachedEncoder } from './cache.js';
import { HashingEncoder } from './hash.js';
import { TransformersEncoder } from './transformers.js';
import type { EncoderKind, TextEncoder } from './types.js';
import { UseEncoder } from './use.js';

export interface EncoderOptions {
  readonly kind: EncoderKind;
  /** transformers: hub id or local directory. */
  readonly model?: string;
  /** Cache root (embeddings and downloaded models). */
  readonly cacheRoot?: string;
  readonly seed?: number;
}

export function defaultCacheRoot(): string {
  return process.env.FEDREC_CACHE ?? join(homedir(), '.cache', 'fedrec');
}

export async function createTextEncoder(options: EncoderOptions): Promise<TextEncoder> {
  const root = options.cacheRoot ?? defaultCacheRoot();
  if (options.model !== undefined && options.kind !== 'transformers') {
    throw new Error(`--encoder-model applies to --encoder transformers only (got encoder '${options.kind}')`);
  }
  let inner: TextEncoder;
  switch (options.kind) {
    case 'use':
      inner = await UseEncoder.load();
      break;
    case 'transformers':
      inner = await TransformersEncoder.load({ model: options.model, cacheDir: join(root, 'models') });
      break;
    case 'hash':
      inner = new HashingEncoder(256, options.seed ?? 0);
      break;
  }
  return new CachedEncoder(inner, join(root, 'embeddings'));
}
