/** `fedrec token create [--db PATH | --store postgres://…] [--label L] [--count N]`: issue client tokens (printed once, stored hashed). */
import { openStore } from '../server/open-store.js';
import { issueToken } from '../server/tokens.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const TOKEN_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
  store: { key: 'store', kind: 'string', help: 'the coordinator\'s store instead of --db: a SQLite file or a postgres:// URL' },
  label: { key: 'label', kind: 'string', help: 'a note kept with the client (not secret)' },
  count: { key: 'count', kind: 'integer', help: 'how many tokens (default 1), one per line' },
};

export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'create') throw new UsageError(`fedrec token: expected 'create', got '${sub ?? ''}'`);
  const f = parseFlags(rest, TOKEN_FLAGS) as { db?: string; store?: string; label?: string; count?: number };
  if (f.db && f.store) throw new UsageError('fedrec token create: give --db or --store, not both');
  const count = f.count ?? 1;
  if (count < 1 || count > 100_000) throw new UsageError(`--count: expected 1..100000, got ${count}`);
  const store = await openStore(f.store ?? f.db ?? 'fedrec.db');
  try {
    const lines: string[] = [];
    for (let k = 0; k < count; k++) lines.push((await issueToken(store, f.label ?? '')).token);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await store.close();
  }
  return 0;
}
