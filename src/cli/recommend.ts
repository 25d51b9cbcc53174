/** `fedrec recommend --model-file F --user ID [-k 10]`: top-K unseen items from a saved model. */
import { loadModelFile, topK } from '../runtime/model-file.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const RECOMMEND_FLAGS: Record<string, FlagSpec> = {
  'model-file': { key: 'modelFile', kind: 'string', help: 'a model saved by fedrec train --save' },
  user: { key: 'user', kind: 'string', help: 'raw user id as in the data file' },
  k: { key: 'k', kind: 'integer', short: 'k', help: 'number of items (default 10)' },
  json: { key: 'json', kind: 'boolean', help: 'print JSON' },
};

export async function recommendCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('recommend', argv, RECOMMEND_FLAGS) as { modelFile?: string; user?: string; k?: number; json?: boolean };
  if (!f.modelFile) throw new UsageError('fedrec recommend: --model-file is required');
  if (f.user === undefined) throw new UsageError('fedrec recommend: --user is required');
  const k = f.k ?? 10;
  if (k < 1) throw new UsageError(`-k: expected a positive integer, got ${k}`);
  const { model, header } = loadModelFile(f.modelFile);
  const u = header.userIds.indexOf(f.user);
  if (u < 0) throw new UsageError(`user '${f.user}' is not in the model (it knows ${header.userIds.length} users)`);
  const recs = topK(model, u, k, new Set(header.seen[u])).map((r) => ({
    item: header.itemIds[r.item],
    score: r.score,
    ...(header.itemTitles?.[r.item] ? { title: header.itemTitles[r.item] } : {}),
  }));
  if (f.json) process.stdout.write(JSON.stringify({ user: f.user, recommendations: recs }, null, 2) + '\n');
  else recs.forEach((r, i) => process.stdout.write(`${String(i + 1).padStart(3)}. ${r.item}\t${r.score.toFixed(4)}\t${r.title ?? ''}\n`));
  return 0;
}
