/**
 * `Store` on one SQLite file (better-sqlite3). WAL journal with synchronous=NORMAL: a committed
 * transaction survives the process being killed (SIGKILL), which is what crash safety needs here
 * (a checkpoint only copies committed pages, so it may be interrupted anywhere);
 * power loss could drop the last transactions, never corrupt the file. Every mutating method is a
 * single transaction, so a kill leaves the state of before or after the call.
 * Several processes may open the same file (`fedrec token create` while the coordinator runs).
 * The `Store` methods are async for the interface's sake; better-sqlite3 runs each synchronously.
 */
import Database from 'better-sqlite3';
import { ConfigError } from '../config/config.js';
import type { AddUpdateResult, Checkpoint, ClientRecord, CloseRoundResult, ClosedRound, FoldedRound, ProtocolMessage, RoundRecord, Store, StoredUpdate } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
  id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  version INTEGER PRIMARY KEY, model BLOB NOT NULL, server_state BLOB, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('open', 'closed')), seed INTEGER NOT NULL,
  selected TEXT, opened_at INTEGER NOT NULL, deadline_at INTEGER NOT NULL,
  closed_at INTEGER, clients INTEGER, loss REAL);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_round ON rounds (status) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS updates (
  round INTEGER NOT NULL, client_id INTEGER NOT NULL, body BLOB NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (round, client_id));
CREATE TABLE IF NOT EXISTS protocol_messages (
  round INTEGER NOT NULL, phase TEXT NOT NULL, client_id INTEGER NOT NULL, body BLOB NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (round, phase, client_id));
`;

interface RoundRow {
  round: number;
  seed: number;
  selected: string | null;
  opened_at: number;
  deadline_at: number;
}

function toBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class SqliteStore implements Store {
  readonly shared = false;
  private readonly db: Database.Database;
  private readonly keepCheckpoints: number;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly addUpdateTx: Database.Transaction<(round: number, clientId: number, body: Uint8Array) => AddUpdateResult>;
  private readonly addMessageTx: Database.Transaction<(round: number, phase: string, clientId: number, body: Uint8Array) => AddUpdateResult>;

  constructor(path: string, options: { keepCheckpoints?: number; checkIntegrity?: boolean } = {}) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // a truncated or overwritten file fails here or in the integrity check, never later mid-round
      if (options.checkIntegrity) {
        const rows = db.pragma('integrity_check') as { integrity_check: string }[];
        const problems = rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
        if (problems.length > 0) throw new Error(`integrity check failed: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);
      }
    } catch (err) {
      try {
        db?.close();
      } catch {
        // closing a connection to a damaged file may fail too: nothing more to release
      }
      throw new ConfigError(`${path}: the database is damaged or not a fedrec database (${(err as Error).message}); restore it from a backup or start on a fresh --db`);
    }
    this.db = db;
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Deleted updates and protocol messages are overwritten with zeros, not left in free pages.
    this.db.pragma('secure_delete = ON');
    // Checkpoints copy every update's pages into the main file (80 KB each, with fsyncs): the
    // coordinator runs them on a worker thread (WalCheckpointer); an automatic one, in the middle
    // of some request, only when the WAL passes 128 MB (a store without that worker).
    this.db.pragma('wal_autocheckpoint = 32768');
    this.db.exec(SCHEMA);
    // token expiry and revocation (added after the first release: old databases gain the columns)
    const clientColumns = (this.db.pragma('table_info(clients)') as { name: string }[]).map((c) => c.name);
    if (!clientColumns.includes('expires_at')) this.db.exec('ALTER TABLE clients ADD COLUMN expires_at INTEGER');
    if (!clientColumns.includes('revoked_at')) this.db.exec('ALTER TABLE clients ADD COLUMN revoked_at INTEGER');
    const columns = (this.db.pragma('table_info(checkpoints)') as { name: string }[]).map((c) => c.name);
    if (!columns.includes('server_state')) {
      this.db.close();
      throw new Error(
        `${path}: this database was created by an older fedrec whose checkpoints lack the server optimiser state (column checkpoints.server_state); ` +
          'it cannot be resumed exactly: start the coordinator on a fresh --db',
      );
    }
    this.keepCheckpoints = options.keepCheckpoints ?? 5;
    this.addUpdateTx = this.db.transaction((round: number, clientId: number, body: Uint8Array): AddUpdateResult => {
      const open = this.sql("SELECT 1 FROM rounds WHERE round = ? AND status = 'open'").get(round);
      if (!open) return 'round-not-open';
      const info = this
        .sql('INSERT INTO updates (round, client_id, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(round, clientId, toBuffer(body), Date.now());
      return info.changes === 1 ? 'added' : 'duplicate';
    });
    this.addMessageTx = this.db.transaction((round: number, phase: string, clientId: number, body: Uint8Array): AddUpdateResult => {
      const open = this.sql("SELECT 1 FROM rounds WHERE round = ? AND status = 'open'").get(round);
      if (!open) return 'round-not-open';
      const info = this
        .sql('INSERT INTO protocol_messages (round, phase, client_id, body, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(round, phase, clientId, toBuffer(body), Date.now());
      return info.changes === 1 ? 'added' : 'duplicate';
    });
  }

  async createClient(tokenHash: string, label: string, expiresAt: number | null = null): Promise<ClientRecord> {
    const tx = this.db.transaction(() => {
      const { next } = this.sql('SELECT COALESCE(MAX(id) + 1, 0) AS next FROM clients').get() as { next: number };
      this.sql('INSERT INTO clients (id, token_hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(next, tokenHash, label, Date.now(), expiresAt);
      return { id: next, label };
    });
    return tx.immediate();
  }

  /** The client of a token, or null when unknown, revoked or expired (read at every request: a revocation counts at once). */
  async clientByTokenHash(tokenHash: string): Promise<ClientRecord | null> {
    const row = this.sql('SELECT id, label FROM clients WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)').get(tokenHash, Date.now()) as
      | ClientRecord
      | undefined;
    return row ?? null;
  }

  /** Revoke the token of client `id` (it keeps its id: selection and aggregation order do not change). False when no such client. */
  async revokeClient(id: number): Promise<boolean> {
    return this.revokeClientNow(id);
  }

  private revokeClientNow(id: number): boolean {
    return this.sql('UPDATE clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id).changes === 1 || this.hasClient(id);
  }

  /** Revoke the client holding a token (by its hash); its id, or null when the token is unknown. */
  async revokeToken(tokenHash: string): Promise<number | null> {
    const row = this.sql('SELECT id FROM clients WHERE token_hash = ?').get(tokenHash) as { id: number } | undefined;
    if (!row) return null;
    this.revokeClientNow(row.id);
    return row.id;
  }

  private hasClient(id: number): boolean {
    return this.sql('SELECT 1 FROM clients WHERE id = ?').get(id) !== undefined;
  }

  async clientCount(): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM clients').get() as { n: number }).n;
  }

  async getMeta(key: string): Promise<string | null> {
    const row = this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.sql('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async setMetaOnce(key: string, value: string): Promise<string> {
    this.sql('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
  }

  async latestCheckpoint(): Promise<Checkpoint | null> {
    const row = this.sql('SELECT version, model, server_state FROM checkpoints ORDER BY version DESC LIMIT 1').get() as
      | { version: number; model: Buffer; server_state: Buffer | null }
      | undefined;
    return row ? { version: row.version, model: toBytes(row.model), serverState: row.server_state === null ? null : toBytes(row.server_state) } : null;
  }

  async checkpointVersion(): Promise<number | null> {
    return (this.sql('SELECT MAX(version) AS v FROM checkpoints').get() as { v: number | null }).v;
  }

  async initialise(model: Uint8Array, serverState: Uint8Array | null, first: RoundRecord | null): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.sql('SELECT 1 FROM checkpoints LIMIT 1').get()) return false;
      this.sql('INSERT INTO checkpoints (version, model, server_state, created_at) VALUES (0, ?, ?, ?)').run(toBuffer(model), serverState && toBuffer(serverState), Date.now());
      if (first) this.insertRoundRow(first);
      return true;
    }).immediate();
  }

  async openRound(): Promise<RoundRecord | null> {
    const row = this.sql("SELECT round, seed, selected, opened_at, deadline_at FROM rounds WHERE status = 'open'").get() as RoundRow | undefined;
    if (!row) return null;
    return {
      round: row.round,
      seed: row.seed,
      selected: row.selected === null ? null : (JSON.parse(row.selected) as number[]),
      openedAt: row.opened_at,
      deadlineAt: row.deadline_at,
    };
  }

  async insertRound(round: RoundRecord): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.sql("SELECT 1 FROM rounds WHERE round = ? OR status = 'open'").get(round.round)) return false;
      this.insertRoundRow(round);
      return true;
    }).immediate();
  }

  async extendDeadline(round: number, deadlineAt: number): Promise<void> {
    this.sql("UPDATE rounds SET deadline_at = ? WHERE round = ? AND status = 'open'").run(deadlineAt, round);
  }

  async addUpdate(round: number, clientId: number, body: Uint8Array): Promise<AddUpdateResult> {
    return this.addUpdateTx.immediate(round, clientId, body);
  }

  async updateCount(round: number): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM updates WHERE round = ?').get(round) as { n: number }).n;
  }

  async updatesOf(round: number): Promise<StoredUpdate[]> {
    return this.updatesOfNow(round);
  }

  private updatesOfNow(round: number): StoredUpdate[] {
    const rows = this.sql('SELECT client_id, body FROM updates WHERE round = ? ORDER BY client_id').all(round) as { client_id: number; body: Buffer }[];
    return rows.map((r) => ({ clientId: r.client_id, body: toBytes(r.body) }));
  }

  async hasUpdate(round: number, clientId: number): Promise<boolean> {
    return this.sql('SELECT 1 FROM updates WHERE round = ? AND client_id = ?').get(round, clientId) !== undefined;
  }

  async completeRound(closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): Promise<void> {
    this.completeRoundNow(closed, model, serverState, next);
  }

  async closeRound(round: number, fold: (updates: StoredUpdate[]) => FoldedRound): Promise<CloseRoundResult> {
    // one IMMEDIATE transaction: SQLite's write lock excludes every other writer (closer or addUpdate)
    return this.db.transaction((): CloseRoundResult => {
      if (!this.sql("SELECT 1 FROM rounds WHERE round = ? AND status = 'open'").get(round)) return 'not-open';
      const f = fold(this.updatesOfNow(round));
      this.completeRoundNow(f.closed, f.model, f.serverState, f.next);
      return 'closed';
    }).immediate();
  }

  private completeRoundNow(closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): void {
    this.db.transaction(() => {
      const info = this
        .sql("UPDATE rounds SET status = 'closed', closed_at = ?, clients = ?, loss = ? WHERE round = ? AND status = 'open'")
        .run(closed.closedAt, closed.clients, closed.loss, closed.round);
      if (info.changes !== 1) throw new Error(`round ${closed.round} is not open: cannot complete it`);
      this.sql('INSERT INTO checkpoints (version, model, server_state, created_at) VALUES (?, ?, ?, ?)')
        .run(closed.round, toBuffer(model), serverState && toBuffer(serverState), closed.closedAt);
      this.sql('DELETE FROM updates WHERE round <= ?').run(closed.round);
      this.sql('DELETE FROM protocol_messages WHERE round <= ?').run(closed.round);
      this.sql('DELETE FROM checkpoints WHERE version <= ?').run(closed.round - this.keepCheckpoints);
      if (next) this.insertRoundRow(next);
    }).immediate();
  }

  async putProtocolMessage(round: number, phase: string, clientId: number, body: Uint8Array): Promise<AddUpdateResult> {
    return this.addMessageTx.immediate(round, phase, clientId, body);
  }

  async protocolMessages(round: number, phase: string): Promise<ProtocolMessage[]> {
    const rows = this.sql('SELECT client_id, body FROM protocol_messages WHERE round = ? AND phase = ? ORDER BY client_id').all(round, phase) as { client_id: number; body: Buffer }[];
    return rows.map((r) => ({ clientId: r.client_id, body: toBytes(r.body) }));
  }

  async closedRounds(): Promise<ClosedRound[]> {
    const rows = this.sql("SELECT round, clients, loss, closed_at FROM rounds WHERE status = 'closed' ORDER BY round").all() as {
      round: number;
      clients: number;
      loss: number;
      closed_at: number;
    }[];
    return rows.map((r) => ({ round: r.round, clients: r.clients, loss: r.loss, closedAt: r.closed_at }));
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  /** Close synchronously (CLI tools and tests that never leave the event loop's turn). */
  closeNow(): void {
    if (this.db.open) this.db.close();
  }

  /** Prepared statements are compiled once and reused (the update path runs per request). */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  private insertRoundRow(r: RoundRecord): void {
    this
      .sql("INSERT INTO rounds (round, status, seed, selected, opened_at, deadline_at) VALUES (?, 'open', ?, ?, ?, ?)")
      .run(r.round, r.seed, r.selected === null ? null : JSON.stringify(r.selected), r.openedAt, r.deadlineAt);
  }
}
