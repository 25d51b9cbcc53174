/** `fedrec token create [--db PATH] [--label L] [--count N]`: issue client tokens (printed once, stored hashed). */
import { SqliteStore } from '../server/sqlite-store.js';
import { issueToken } from '../server/tokens.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const TOKEN_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
  label: { key: 'label', kind: 'string', help: 'a note kept with the client (not secret)' },
  count: { key: 'count', kind: 'integer', help: 'how many tokens (default 1), one per line' },
};

export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') parseFlags(['--help'], TOKEN_FLAGS); // shows the flags of 'token create'
  if (sub === 'operator') return (await import('./operator-token.js')).operatorTokenCommand(rest);
  if (sub !== 'create') throw new UsageError(`expected 'token create' or 'token operator', got '${sub ?? ''}'`);
  const f = parseFlags(rest, TOKEN_FLAGS) as { db?: string; label?: string; count?: number };
  const count = f.count ?? 1;
  if (count < 1 || count > 100_000) throw new UsageError(`--count: expected 1..100000, got ${count}`);
  const store = new SqliteStore(f.db ?? 'fedrec.db');
  try {
    const lines: string[] = [];
    for (let k = 0; k < count; k++) lines.push(issueToken(store, f.label ?? '').token);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    store.close();
  }
  return 0;
}
