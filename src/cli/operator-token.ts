/**
 * `fedrec token operator [--db PATH | --store postgres://…]`: issue the coordinator's operator token (server/operator.ts),
 * which opens the dashboard at /dashboard. Printed once, stored hashed; a new one replaces the old.
 */
import { openStore } from '../server/open-store.js';
import { issueOperatorToken } from '../server/operator.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const OPERATOR_TOKEN_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
  store: { key: 'store', kind: 'string', help: 'the coordinator\'s store instead of --db: a SQLite file or a postgres:// URL' },
};

export async function operatorTokenCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, OPERATOR_TOKEN_FLAGS) as { db?: string; store?: string };
  if (f.db && f.store) throw new UsageError('give --db or --store, not both');
  const store = await openStore(f.store ?? f.db ?? 'fedrec.db');
  try {
    process.stdout.write((await issueOperatorToken(store)) + '\n');
  } finally {
    await store.close();
  }
  process.stderr.write('fedrec token operator: the dashboard is at /dashboard (user name: anything, password: this token); any earlier operator token no longer works\n');
  return 0;
}
