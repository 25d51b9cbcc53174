/** The SQLite store: the shared store contract (store-contract.ts), and the refusal of an old database. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';
import { storeContract } from './store-contract.js';
import { tempDir } from './testing.js';

const dir = tempDir('store');
after(() => dir.remove());
let n = 0;

storeContract('sqlite', () => ({
  fresh: async () => join(dir.path, `s${++n}.db`),
  open: async (path, options) => new SqliteStore(path, options),
}));

test('a database whose checkpoints lack the server state column is refused with a clear error', () => {
  const path = join(dir.path, 'old.db');
  const old = new Database(path);
  old.exec('CREATE TABLE checkpoints (version INTEGER PRIMARY KEY, model BLOB NOT NULL, created_at INTEGER NOT NULL)');
  old.close();
  assert.throws(() => new SqliteStore(path), /older fedrec .*checkpoints\.server_state.*fresh --db/);
});
