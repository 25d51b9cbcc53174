/**
 * A deterministic hashing text encoder for tests and offline smoke runs (the "hashing trick"):
 * lower-cased word unigrams and bigrams are hashed (FNV-1a, seeded) to one of `dim` buckets with a
 * hashed sign, counts are summed and the vector L2-normalised. Texts sharing words get similar
 * vectors; it knows no semantics.
 */
import { hashString } from '../math/rng.js';
import { normalizeInPlace, type TextEncoder } from './types.js';

export class HashingEncoder implements TextEncoder {
  readonly id: string;

  constructor(
    readonly dim = 256,
    private readonly seed = 0,
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`hashing encoder: dim must be a positive integer, got ${dim}`);
    this.id = `hash:${dim}:${seed}`;
  }

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.encodeOne(t));
  }

  private encodeOne(text: string): Float32Array {
    const v = new Float32Array(this.dim); // [dim]
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const add = (token: string) => {
      const h = hashString(`${this.seed}|${token}`);
      v[h % this.dim] += (h & 0x80000000) !== 0 ? -1 : 1;
    };
    words.forEach((w, k) => {
      add(w);
      if (k > 0) add(`${words[k - 1]} ${w}`);
    });
    return normalizeInPlace(v);
  }
}
