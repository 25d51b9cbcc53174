/**
 * The data set, split and model a validated run config names: read (or generated) and split with
 * fixed evaluation negatives (data/split.ts), or read from `--split-files`. Every run recipe, the
 * coordinator (`fedrec serve`) and the CLI's `split` / `partition` start from here, so they see the
 * same data for the same config.
 */
import { loadDataset } from '../data/readers.js';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut, ratioSplit } from '../data/split.js';
import { readSplitFiles } from '../data/split-files.js';
import type { Dataset, ImplicitSplit } from '../data/types.js';
import { ialsInitStd } from '../models/ials/ials.js';
import type { ModelConfig } from '../models/types.js';
import { ConfigError, type TrainConfig } from './config.js';
import { reportStatus } from '../report/status.js';

export async function loadConfiguredDataset(c: TrainConfig): Promise<Dataset> {
  reportStatus(c.data ? `reading ${c.data}` : 'generating the synthetic data set');
  if (c.data) {
    const ds = await loadDataset({ path: c.data, format: c.format, columns: c.columns, sep: c.sep, ratingThreshold: c.ratingThreshold });
    reportStatus(`read ${ds.nUsers} users, ${ds.nItems} items, ${ds.interactions.users.length} interactions`);
    return ds;
  }
  try {
    return generateSynthetic({
      users: c.syntheticUsers,
      items: c.syntheticItems,
      interactions: c.syntheticInteractions,
      seed: c.seed,
    });
  } catch (err) {
    // The sizes come from the config (--synthetic-users/-items/-interactions): a usage error, not an internal one.
    if (err instanceof RangeError) throw new ConfigError(`${err.message.replace(/^synthetic: /, 'synthetic data (--synthetic-users, --synthetic-items, --synthetic-interactions): ')}`);
    throw err;
  }
}

/** The data set and split of a run: read from `--split-files`, or loaded and split by the config. */
export interface ConfiguredSplit {
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
  /** False when split files hold no validation part: nothing to select on, the last round/epoch is reported. */
  readonly hasValidation: boolean;
}

export async function loadConfiguredSplit(c: TrainConfig, preloaded?: Dataset): Promise<ConfiguredSplit> {
  if (c.splitFiles) {
    const files = await readSplitFiles(c.splitFiles, { seed: c.seed });
    if (c.eval.includes('full') && files.split.method !== 'ratio') {
      throw new ConfigError(`eval: full ranking is reported on ratio splits only; the split files hold a ${files.split.method} split (docs/evaluation.md)`);
    }
    return files;
  }
  const dataset = preloaded ?? await loadConfiguredDataset(c);
  return { dataset, split: splitDataset(dataset, c.split, c.seed), hasValidation: true };
}

/** `loo` → leave-one-out (by time when timestamps exist); `ratio:0.8,0.1,0.1` → per-user ratio split. */
export function splitDataset(ds: Dataset, spec: string, seed: number): ImplicitSplit {
  if (spec === 'loo') return leaveOneOut(ds, { seed });
  const m = /^ratio:([\d.]+),([\d.]+),([\d.]+)$/.exec(spec);
  if (!m) throw new ConfigError(`split: expected 'loo' or 'ratio:TRAIN,VALID,TEST' (e.g. ratio:0.8,0.1,0.1), got '${spec}'`);
  return ratioSplit(ds, { ratios: [Number(m[1]), Number(m[2]), Number(m[3])], seed });
}

export function modelConfigOf(c: TrainConfig): ModelConfig {
  if (c.model === 'ials') return { kind: 'ials', dim: c.dim, initStd: ialsInitStd(c.dim) };
  return c.model === 'neumf' ? { kind: 'neumf', dim: c.dim, mlpDim: c.dim, layers: c.layers } : { kind: 'mf', dim: c.dim };
}
