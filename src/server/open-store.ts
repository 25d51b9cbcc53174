/** `--store` / `--db`: a postgres:// URL opens a `PostgresStore` (replicas may share it), anything else is a SQLite file. */
import { isPostgresUrl, PostgresStore } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  readonly keepCheckpoints?: number;
  readonly onIdleError?: (err: Error) => void;
  /** SQLite: run PRAGMA integrity_check at open (PostgreSQL checks its schema at every open). */
  readonly checkIntegrity?: boolean;
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(spec)) return PostgresStore.open(spec, options);
  return new SqliteStore(spec, { keepCheckpoints: options.keepCheckpoints, checkIntegrity: options.checkIntegrity });
}
