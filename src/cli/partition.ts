/**
 * `fedrec partition --out DIR [--data PATH] [--users-per-client N] [--split loo] [--seed S]`: split a
 * data set as `fedrec train` does and write one client data file per federated client (for
 * `fedrec join`); file k holds the users of simulated client k. With `--algorithm fedrecon`: one file
 * per training user of the user split (`--user-split`), all of its interactions.
 */
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset, splitDataset } from '../recipes/experiment.js';
import { writeClientFiles, writeFedReconClientFiles } from '../client/data-file.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';
import { readUserTextFile, userTexts } from '../text/user-text.js';
import { TRAIN_FLAGS } from './train.js';

export const PARTITION_FLAGS: Record<string, FlagSpec> = {
  out: { key: 'out', kind: 'string', help: 'folder for the client files' },
  data: TRAIN_FLAGS.data,
  format: TRAIN_FLAGS.format,
  split: TRAIN_FLAGS.split,
  seed: TRAIN_FLAGS.seed,
  'users-per-client': TRAIN_FLAGS['users-per-client'],
  // fedrecon: one file per training user of the user split (client/data-file.ts writeFedReconClientFiles)
  algorithm: TRAIN_FLAGS.algorithm,
  feedback: TRAIN_FLAGS.feedback,
  'user-split': TRAIN_FLAGS['user-split'],
  'synthetic-users': TRAIN_FLAGS['synthetic-users'],
  'synthetic-items': TRAIN_FLAGS['synthetic-items'],
  'synthetic-interactions': TRAIN_FLAGS['synthetic-interactions'],
  // text-graph: each user's text description goes into its record (encoded on the device)
  model: TRAIN_FLAGS.model,
  'user-text': TRAIN_FLAGS['user-text'],
};

export async function partitionCommand(argv: readonly string[]): Promise<number> {
  const { out, ...raw } = parseFlags(argv, PARTITION_FLAGS) as Record<string, unknown> & { out?: string };
  if (!out) throw new UsageError('--out DIR is required');
  const c = parseTrainConfig(raw);
  const dataset = await loadConfiguredDataset(c);
  const files = c.algorithm === 'fedrecon'
    ? writeFedReconClientFiles(dataset, c.userSplit, c.seed, out)
    : writeClientFiles(dataset, splitDataset(dataset, c.split, c.seed), c.usersPerClient, c.seed, out,
      c.model === 'text-graph' ? userTexts(dataset, c.userText ? readUserTextFile(c.userText) : undefined) : undefined);
  process.stdout.write(`${files.length} client files written to ${out}\n`);
  return 0;
}
