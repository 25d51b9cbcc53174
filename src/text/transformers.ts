/**
 * Sentence embeddings with transformers.js (`@huggingface/transformers`): the feature-extraction
 * pipeline, mean pooling over the attention mask, L2 normalisation — the sentence-transformers
 * recipe of all-MiniLM-L6-v2 (384-d), the encoder of the UFGraphFR paper (Wang, Hao, Xiao,
 * J. Supercomputing 2026, arXiv 2501.08044).
 *
 * `model` is a hub id (default `Xenova/all-MiniLM-L6-v2`) or a local model directory (holding
 * config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx). On a connected machine a
 * hub id is downloaded once into `cacheDir`; offline, the id must already be in `cacheDir`, and
 * failing that the error names the id, where it looked, and what to do instead.
 * Runs on the onnxruntime-node backend (its prebuilt CPU binary ships in the npm package; its
 * install script, which only fetches GPU add-ons, is not needed).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { normalizeInPlace, type TextEncoder } from './types.js';

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

export interface TransformersEncoderOptions {
  /** Hub id or local directory (default `Xenova/all-MiniLM-L6-v2`). */
  readonly model?: string;
  /** Where downloaded models are cached (default `$FEDREC_CACHE/models` or `~/.cache/fedrec/models`). */
  readonly cacheDir?: string;
  /** Try the Hugging Face hub for ids not in the cache (default true). */
  readonly allowRemote?: boolean;
  /** Texts per forward pass (default 32). */
  readonly batch?: number;
}

type Extractor = (texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: ArrayLike<number>; dims: number[] }>;

export function defaultModelCacheDir(): string {
  return process.env.FEDREC_CACHE ? join(process.env.FEDREC_CACHE, 'models') : join(homedir(), '.cache', 'fedrec', 'models');
}

/** A local directory rather than a hub id: an existing directory, or a path that looks like one. */
function isLocalPath(model: string): boolean {
  if (isAbsolute(model) || model.startsWith('./') || model.startsWith('../')) return true;
  return existsSync(model) && statSync(model).isDirectory();
}

/** An optional package a chosen feature needs is not installed. */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
}

export const TRANSFORMERS_PACKAGE = '@huggingface/transformers';

/**
 * `@huggingface/transformers` is an optional peer dependency (with onnxruntime it weighs ~450 MB), loaded
 * only when `--encoder transformers` is chosen; without it, one clear line says how to get it.
 */
export async function loadTransformersPackage(specifier: string = TRANSFORMERS_PACKAGE): Promise<typeof import('@huggingface/transformers')> {
  try {
    return (await import(specifier)) as typeof import('@huggingface/transformers');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new MissingPackageError(
      `--encoder transformers needs the optional package ${specifier}, which is not installed: ` +
        `npm install ${specifier} (about 450 MB with onnxruntime), or use --encoder use (offline, installed)`,
    );
  }
}

export class TransformersEncoder implements TextEncoder {
  private constructor(
    readonly id: string,
    readonly dim: number,
    private readonly extract: Extractor,
    private readonly batch: number,
  ) {}

  static async load(options: TransformersEncoderOptions = {}): Promise<TransformersEncoder> {
    const model = options.model ?? DEFAULT_TRANSFORMERS_MODEL;
    const cacheDir = resolve(options.cacheDir ?? defaultModelCacheDir());
    const local = isLocalPath(model);
    const allowRemote = !local && (options.allowRemote ?? true);
    const { env, pipeline } = await loadTransformersPackage();
    env.cacheDir = cacheDir;
    env.allowLocalModels = true;
    env.allowRemoteModels = allowRemote;
    // A local directory is loaded as id `basename` under `localModelPath = dirname`.
    env.localModelPath = local ? dirname(resolve(model)) + '/' : cacheDir + '/';
    const modelId = local ? basename(resolve(model)) : model;
    let extract: Extractor;
    try {
      extract = (await pipeline('feature-extraction', modelId, { dtype: 'fp32', device: 'cpu', cache_dir: cacheDir, local_files_only: !allowRemote })) as unknown as Extractor;
    } catch (err) {
      const where = local ? `the directory ${resolve(model)}` : `the cache directory ${cacheDir}`;
      const hub = local ? '' : allowRemote ? ' and the Hugging Face hub could not be reached or has no such model' : ' (hub downloads disabled)';
      throw new Error(
        `text encoder 'transformers': cannot load model '${model}' from ${where}${hub}: ${(err as Error).message}\n` +
          `Without network access hubs are unreachable: download the model on a connected machine ` +
          `(config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx) and pass --encoder-model PATH, ` +
          `or copy it into ${cacheDir}, or use the offline encoder (--encoder use).`,
      );
    }
    const probe = await extract(['probe'], { pooling: 'mean', normalize: true });
    const dim = probe.dims[probe.dims.length - 1];
    return new TransformersEncoder(`transformers:${local ? resolve(model) : model}`, dim, extract, options.batch ?? 32);
  }

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batch) {
      const chunk = texts.slice(start, start + this.batch);
      const result = await this.extract([...chunk], { pooling: 'mean', normalize: true });
      for (let k = 0; k < chunk.length; k++) {
        out.push(normalizeInPlace(Float32Array.from(Array.prototype.slice.call(result.data, k * this.dim, (k + 1) * this.dim) as number[])));
      }
    }
    return out;
  }
}
