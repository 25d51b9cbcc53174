/**
 * The text-encoder contract (UFGraphFR: Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044):
 * a frozen, pretrained sentence encoder turns each user's text description into a fixed vector
 * v_u that the client model's joint embedding layer consumes. Encoders are never trained.
 * Every implementation returns one L2-normalised Float32Array of length `dim` per input text, in
 * input order (unit norm for any non-empty text), and is deterministic (same text, same vector). See `contract.test.ts`.
 */
export interface TextEncoder {
  /** Identifies the encoder and its model (e.g. `use:universal-sentence-encoder-en`); used as cache key. */
  readonly id: string;
  /** Width of every vector. */
  readonly dim: number;
  /** Encode a batch of texts: `[texts.length]` vectors of `[dim]`, each of L2 norm 1. */
  encode(texts: readonly string[]): Promise<Float32Array[]>;
}

export type EncoderKind = 'use' | 'transformers' | 'hash';

/** Width of the Universal Sentence Encoder's vectors (text/use.ts), known without loading it. */
export const USE_DIM = 512;

/** Scale `v` to unit L2 norm in place (a zero vector stays zero). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < v.length; k++) v[k] *= inv;
  }
  return v;
}
