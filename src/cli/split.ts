/**
 * `fedrec split --out DIR [--data PATH …] [--split loo|ratio:…] [--seed S]`: split a data set exactly
 * as `fedrec train` does and write the split files (data/split-files.ts: train / validation / test,
 * both evaluation-negative lists, raw ids), for `fedrec train --split-files DIR` or other tools.
 */
import { mkdirSync } from 'node:fs';
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset, splitDataset } from '../recipes/experiment.js';
import { writeSplitFiles } from '../data/split-files.js';
import { countPerUser } from '../data/user-items.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';
import { TRAIN_FLAGS } from './train.js';

export const SPLIT_FLAGS: Record<string, FlagSpec> = {
  out: { key: 'out', kind: 'string', help: 'folder for the split files (created when missing)' },
  data: TRAIN_FLAGS.data,
  format: TRAIN_FLAGS.format,
  columns: TRAIN_FLAGS.columns,
  sep: TRAIN_FLAGS.sep,
  'rating-threshold': TRAIN_FLAGS['rating-threshold'],
  split: TRAIN_FLAGS.split,
  seed: TRAIN_FLAGS.seed,
  'synthetic-users': TRAIN_FLAGS['synthetic-users'],
  'synthetic-items': TRAIN_FLAGS['synthetic-items'],
  'synthetic-interactions': TRAIN_FLAGS['synthetic-interactions'],
};

export function splitHelp(): string {
  return `usage: fedrec split --out DIR [flags]\n\n${Object.entries(SPLIT_FLAGS).map(([f, s]) => `  --${f}`.padEnd(28) + s.help).join('\n')}`;
}

export async function splitCommand(argv: readonly string[]): Promise<number> {
  const { out, ...raw } = parseFlags(argv, SPLIT_FLAGS) as Record<string, unknown> & { out?: string };
  if (!out) throw new UsageError('--out DIR is required (the folder for the split files)');
  const c = parseTrainConfig(raw);
  const dataset = await loadConfiguredDataset(c);
  const split = splitDataset(dataset, c.split, c.seed);
  mkdirSync(out, { recursive: true });
  const files = writeSplitFiles(dataset, split, out);
  const sum = (a: Int32Array) => a.reduce((s, n) => s + n, 0);
  process.stdout.write(
    `${split.method} split of ${dataset.name} (seed ${c.seed}): train ${split.train.indices.length}, validation ${sum(countPerUser(split.validation))}, ` +
      `test ${sum(countPerUser(split.test))} interactions; ${files.join(', ')} written to ${out}\n`,
  );
  return 0;
}
