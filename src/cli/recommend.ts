/**
 * `fedrec recommend --model-file F --user ID [-k 10]`: top-K unseen items from a saved model.
 * `fedrec recommend --server URL --token T --data FILE [--user ID] [-k 10]`: top-K computed on this
 * device from the coordinator's current model and the client's own data (nothing is sent).
 */
import { loadModelFile } from '../models/model-file.js';
import { topK } from '../eval/top-k.js';
import { recommendOnDevice } from '../client/node-client.js';
import { TransportError } from '../client/types.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const RECOMMEND_FLAGS: Record<string, FlagSpec> = {
  'model-file': { key: 'modelFile', kind: 'string', help: 'a model saved by fedrec train --save' },
  user: { key: 'user', kind: 'string', help: 'raw user id as in the data file' },
  k: { key: 'k', kind: 'integer', short: 'k', help: 'number of items (default 10)' },
  json: { key: 'json', kind: 'boolean', help: 'print JSON' },
  server: { key: 'server', kind: 'string', help: 'coordinator URL (on-device mode, with --token and --data)' },
  token: { key: 'token', kind: 'string', help: 'client token (on-device mode)' },
  data: { key: 'data', kind: 'string', help: 'this client\'s data file (on-device mode)' },
  state: { key: 'state', kind: 'string', help: 'local tables saved by fedrec join --state (on-device mode)' },
};

export async function recommendCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, RECOMMEND_FLAGS) as { modelFile?: string; user?: string; k?: number; json?: boolean; server?: string; token?: string; data?: string; state?: string };
  if (f.server !== undefined) return recommendFromServer(f);
  if (!f.modelFile) throw new UsageError('--model-file is required');
  if (f.user === undefined) throw new UsageError('--user is required');
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

async function recommendFromServer(f: { server?: string; token?: string; data?: string; state?: string; user?: string; k?: number; json?: boolean }): Promise<number> {
  if (!f.token) throw new UsageError('--token is required with --server');
  if (!f.data) throw new UsageError('--data is required with --server');
  const k = f.k ?? 10;
  if (k < 1) throw new UsageError(`-k: expected a positive integer, got ${k}`);
  let recs;
  try {
    recs = await recommendOnDevice({ server: f.server as string, token: f.token, dataFile: f.data, statePath: f.state, k, user: f.user });
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    process.stderr.write(`fedrec recommend: ${err.message}\n`);
    return 1;
  }
  if (f.json) process.stdout.write(JSON.stringify({ recommendations: recs }, null, 2) + '\n');
  else
    for (const r of recs) {
      process.stdout.write(`user ${r.user}\n`);
      r.items.forEach((it, i) => process.stdout.write(`${String(i + 1).padStart(3)}. ${it.item}\t${it.score.toFixed(4)}\t${it.title}\n`));
    }
  return 0;
}
