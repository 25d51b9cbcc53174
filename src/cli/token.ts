/**
 * `fedrec token create [--db PATH | --store postgres://…] [--label L] [--count N] [--expires-in 30d]`:
 * issue client tokens (printed once, stored hashed), optionally expiring.
 * `fedrec token revoke [--db PATH | --store postgres://…] (--id N | --token T)`: revoke one; every
 * running coordinator (every replica) refuses it (401) from its next request on, since it asks the
 * database at every request.
 */
import { openStore } from '../server/open-store.js';
import { hashToken, issueToken } from '../server/tokens.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

export const TOKEN_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
  store: { key: 'store', kind: 'string', help: 'the coordinator\'s store instead of --db: a SQLite file or a postgres:// URL' },
  label: { key: 'label', kind: 'string', help: 'a note kept with the client (not secret)' },
  count: { key: 'count', kind: 'integer', help: 'how many tokens (default 1), one per line' },
  'expires-in': { key: 'expiresIn', kind: 'string', help: 'the tokens stop working after this long: e.g. 3600s, 12h, 30d (default never)' },
};

export const REVOKE_FLAGS: Record<string, FlagSpec> = {
  db: { key: 'db', kind: 'string', help: 'SQLite file of the coordinator (default fedrec.db)' },
  store: { key: 'store', kind: 'string', help: 'the coordinator\'s store instead of --db: a SQLite file or a postgres:// URL' },
  id: { key: 'id', kind: 'integer', help: 'the client id to revoke (0, 1, 2, … in issue order)' },
  token: { key: 'token', kind: 'string', help: 'the token to revoke' },
};

/** '90s', '15m', '12h', '30d' → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--expires-in: expected a positive duration like 3600s, 15m, 12h or 30d, got '${text}'`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') parseFlags(['--help'], TOKEN_FLAGS); // shows the flags of 'token create'
  if (sub === 'operator') return (await import('./operator-token.js')).operatorTokenCommand(rest);
  if (sub === 'revoke') return revoke(rest);
  if (sub !== 'create') throw new UsageError(`expected 'token create', 'token revoke' or 'token operator', got '${sub ?? ''}'`);
  const f = parseFlags(rest, TOKEN_FLAGS) as { db?: string; store?: string; label?: string; count?: number; expiresIn?: string };
  if (f.db && f.store) throw new UsageError('give --db or --store, not both');
  const count = f.count ?? 1;
  if (count < 1 || count > 100_000) throw new UsageError(`--count: expected 1..100000, got ${count}`);
  const expiresAt = f.expiresIn === undefined ? null : Date.now() + parseDuration(f.expiresIn);
  const store = await openStore(f.store ?? f.db ?? 'fedrec.db');
  try {
    const lines: string[] = [];
    for (let k = 0; k < count; k++) lines.push((await issueToken(store, f.label ?? '', expiresAt)).token);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await store.close();
  }
  return 0;
}

async function revoke(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, REVOKE_FLAGS) as { db?: string; store?: string; id?: number; token?: string };
  if ((f.id === undefined) === (f.token === undefined)) throw new UsageError('give exactly one of --id N or --token T');
  if (f.db && f.store) throw new UsageError('give --db or --store, not both');
  const store = await openStore(f.store ?? f.db ?? 'fedrec.db');
  try {
    if (f.id !== undefined) {
      if (!(await store.revokeClient(f.id))) throw new UsageError(`fedrec token revoke: no client with id ${f.id}`);
      process.stdout.write(`revoked client ${f.id}\n`);
    } else {
      const id = await store.revokeToken(hashToken(f.token as string));
      if (id === null) throw new UsageError('fedrec token revoke: that token was never issued by this database');
      process.stdout.write(`revoked client ${id}\n`);
    }
  } finally {
    await store.close();
  }
  return 0;
}
