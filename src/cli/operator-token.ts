/**
 * `fedrec token operator [--db PATH]`: issue the coordinator's operator token (server/operator.ts),
 * which opens the dashboard at /dashboard. Printed once, stored hashed; a new one replaces the old.
 */
import { SqliteStore } from '../server/sqlite-store.js';
import { issueOperatorToken } from '../server/operator.js';
import { parseFlags, type FlagSpec } from './flags.js';

export const OPERATOR_TOKEN_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
};

export async function operatorTokenCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, OPERATOR_TOKEN_FLAGS) as { db?: string };
  const store = new SqliteStore(f.db ?? 'fedrec.db');
  try {
    process.stdout.write(issueOperatorToken(store) + '\n');
  } finally {
    store.close();
  }
  process.stderr.write('fedrec token operator: the dashboard is at /dashboard (user name: anything, password: this token); any earlier operator token no longer works\n');
  return 0;
}
