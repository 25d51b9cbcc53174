/**
 * `Store` on a PostgreSQL database (driver: node-postgres `pg`), shared by any number of
 * coordinator replicas. Crash safety is PostgreSQL's: a committed transaction survives the process
 * (or the connection) being killed, an uncommitted one leaves nothing. Every method is one
 * transaction (most are a single statement); the places where replicas race are made safe by the
 * database, never by one process's memory:
 *  - `addUpdate` inserts only while the round row is open, under FOR KEY SHARE of that row;
 *  - `closeRound` holds a transaction-level advisory lock on the round (a second closer gets
 *    'busy' at once) and FOR UPDATE on the round row (which waits for in-flight `addUpdate`s and
 *    makes later ones see the round closed), reads the updates, folds, and commits the checkpoint:
 *    an update is either in the fold or refused, and a round is folded and checkpointed once;
 *  - `insertRound` / `initialise` / `setMetaOnce` / `createClient` are first-writer-wins or
 *    serialised by an advisory lock, so replicas starting or opening a round together agree.
 */
import pg from 'pg';
import { ConfigError } from '../config/config.js';
import { copyIdBytesRows } from './pg-copy-rows.js';
import type { AddUpdateResult, Checkpoint, ClientRecord, CloseRoundResult, ClosedRound, FoldedRound, ProtocolMessage, RoundRecord, Store, StoredUpdate } from './types.js';

/** First key of fedrec's advisory locks ('fedr'); the second names what is locked. */
const LOCK = 0x66656472;
const LOCK_SCHEMA = -1;
const LOCK_CLIENTS = -2;
const LOCK_INIT = -3;
const LOCK_SECURE = -4;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
  id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  version INTEGER PRIMARY KEY, model BYTEA NOT NULL, server_state BYTEA, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('open', 'closed')), seed BIGINT NOT NULL,
  selected TEXT, opened_at BIGINT NOT NULL, deadline_at BIGINT NOT NULL,
  closed_at BIGINT, clients INTEGER, loss DOUBLE PRECISION);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_round ON rounds (status) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS updates (
  round INTEGER NOT NULL, client_id INTEGER NOT NULL, body BYTEA NOT NULL, received_at BIGINT NOT NULL,
  PRIMARY KEY (round, client_id));
-- update bodies are float32 noise to a compressor: stored out of line without trying pglz
ALTER TABLE updates ALTER COLUMN body SET STORAGE EXTERNAL;
-- token expiry and revocation (added after the first release: older databases gain the columns)
ALTER TABLE clients ADD COLUMN IF NOT EXISTS expires_at BIGINT;
ALTER TABLE clients ADD COLUMN IF NOT EXISTS revoked_at BIGINT;
CREATE TABLE IF NOT EXISTS protocol_messages (
  round INTEGER NOT NULL, phase TEXT NOT NULL, client_id INTEGER NOT NULL, body BYTEA NOT NULL, received_at BIGINT NOT NULL,
  PRIMARY KEY (round, phase, client_id));
`;

/** The columns every fedrec table must have: a database that lacks one is refused at startup (not mid-round). */
const EXPECTED_COLUMNS: Record<string, readonly string[]> = {
  meta: ['key', 'value'],
  clients: ['id', 'token_hash', 'label', 'created_at', 'expires_at', 'revoked_at'],
  checkpoints: ['version', 'model', 'server_state', 'created_at'],
  rounds: ['round', 'status', 'seed', 'selected', 'opened_at', 'deadline_at', 'closed_at', 'clients', 'loss'],
  updates: ['round', 'client_id', 'body', 'received_at'],
  protocol_messages: ['round', 'phase', 'client_id', 'body', 'received_at'],
};

/**
 * BIGINT (int8) columns and COUNT(*) hold milliseconds and counts: well inside a double. Results stay
 * in text format (bytea as hex, decoded natively): node-postgres' per-query `binary` mode hands
 * bytea over as a UTF-8 string, which corrupts it.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

interface RoundRow {
  round: number;
  seed: number;
  selected: string | null;
  opened_at: number;
  deadline_at: number;
}

const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Refuse a database whose fedrec tables lack a column (another program's tables, a damaged schema). */
async function checkSchema(c: pg.PoolClient): Promise<void> {
  const { rows } = await c.query<{ table_name: string; column_name: string }>(
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)',
    [Object.keys(EXPECTED_COLUMNS)],
  );
  const have = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
  const missing = Object.entries(EXPECTED_COLUMNS).flatMap(([t, cols]) => cols.filter((col) => !have.has(`${t}.${col}`)).map((col) => `${t}.${col}`));
  if (missing.length > 0) {
    throw new Error(`the database is not a fedrec database or its schema is damaged (missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''})`);
  }
}

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//.test(s);
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/**
 * Fault injection for the replica tests: FEDREC_FAULT_CLOSE_PAUSE="ROUND:MS" makes this process
 * wait MS ms inside its close transaction of round ROUND (locks held, fold done, nothing
 * committed), once, after a line on stderr, so a test can kill the process or its connection there.
 */
function closePauseFromEnv(): { round: number; ms: number } | null {
  const m = /^(\d+):(\d+)$/.exec(process.env.FEDREC_FAULT_CLOSE_PAUSE ?? '');
  return m ? { round: Number(m[1]), ms: Number(m[2]) } : null;
}

export interface PostgresStoreOptions {
  readonly keepCheckpoints?: number;
  /** Connections in this process's pool (default 10). */
  readonly poolSize?: number;
  /** Called when an idle pooled connection fails (e.g. the server terminated it); the pool replaces it. */
  readonly onIdleError?: (err: Error) => void;
}

export class PostgresStore implements Store {
  readonly shared = true;
  private readonly keepCheckpoints: number;
  private closePause = closePauseFromEnv();
  /** The connection holding this process's session-level advisory lock (`claimExclusive`). */
  private exclusive: pg.PoolClient | null = null;

  private constructor(private readonly pool: pg.Pool, options: PostgresStoreOptions) {
    this.keepCheckpoints = options.keepCheckpoints ?? 5;
  }

  /** Connect, and create the tables when missing (serialised between replicas starting together). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types, connectionTimeoutMillis: 10_000 });
    // an idle connection killed by the server must not crash the process (the pool drops it)
    pool.on('error', (err) => options.onIdleError?.(err));
    const store = new PostgresStore(pool, options);
    try {
      await store.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK, LOCK_SCHEMA]);
        await c.query(SCHEMA);
        await checkSchema(c);
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new ConfigError(`cannot open the PostgreSQL store ${redactUrl(url)}: ${(err as Error).message}`);
    }
    return store;
  }

  async createClient(tokenHash: string, label: string, expiresAt: number | null = null): Promise<ClientRecord> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK, LOCK_CLIENTS]);
      const { rows } = await c.query<{ next: number }>('SELECT COALESCE(MAX(id) + 1, 0) AS next FROM clients');
      const id = rows[0].next;
      await c.query('INSERT INTO clients (id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [id, tokenHash, label, Date.now(), expiresAt]);
      return { id, label };
    });
  }

  /** The client of a token, or null when unknown, revoked or expired (read at every request: a revocation through any replica counts at once). */
  async clientByTokenHash(tokenHash: string): Promise<ClientRecord | null> {
    // named: parsed and planned once per connection (this runs at every authenticated request)
    const { rows } = await this.pool.query<ClientRecord>({
      name: 'fedrec-client-by-token',
      text: 'SELECT id, label FROM clients WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)',
      values: [tokenHash, Date.now()],
    });
    return rows[0] ?? null;
  }

  async revokeClient(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE clients SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [Date.now(), id]);
    return (rowCount ?? 0) === 1;
  }

  async revokeToken(tokenHash: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ id: number }>('UPDATE clients SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2 RETURNING id', [Date.now(), tokenHash]);
    return rows[0]?.id ?? null;
  }

  async clientCount(): Promise<number> {
    // ids are 0, 1, 2, … (createClient) and rows are never deleted: the count is the next id, read from the primary key (COUNT(*) scans every client, at every replica sync)
    return (await this.pool.query<{ n: number }>('SELECT COALESCE(MAX(id) + 1, 0) AS n FROM clients')).rows[0].n;
  }

  async getMeta(key: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return rows[0]?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async setMetaOnce(key: string, value: string): Promise<string> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getMeta(key)) as string;
  }

  async latestCheckpoint(): Promise<Checkpoint | null> {
    const { rows } = await this.pool.query<{ version: number; model: Buffer; server_state: Buffer | null }>(
      'SELECT version, model, server_state FROM checkpoints ORDER BY version DESC LIMIT 1',
    );
    const row = rows[0];
    return row ? { version: row.version, model: toBytes(row.model), serverState: row.server_state === null ? null : toBytes(row.server_state) } : null;
  }

  async checkpointVersion(): Promise<number | null> {
    return (await this.pool.query<{ v: number | null }>('SELECT MAX(version) AS v FROM checkpoints')).rows[0].v;
  }

  async initialise(model: Uint8Array, serverState: Uint8Array | null, first: RoundRecord | null): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK, LOCK_INIT]);
      if ((await c.query('SELECT 1 FROM checkpoints LIMIT 1')).rowCount) return false;
      await c.query('INSERT INTO checkpoints (version, model, server_state, created_at) VALUES (0, $1, $2, $3)', [toBuffer(model), serverState && toBuffer(serverState), Date.now()]);
      if (first) await this.insertRoundRow(c, first);
      return true;
    });
  }

  async openRound(): Promise<RoundRecord | null> {
    const { rows } = await this.pool.query<RoundRow>("SELECT round, seed, selected, opened_at, deadline_at FROM rounds WHERE status = 'open'");
    const row = rows[0];
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
    return (await this.insertRoundRow(this.pool, round)) === 1;
  }

  async extendDeadline(round: number, deadlineAt: number): Promise<void> {
    await this.pool.query("UPDATE rounds SET deadline_at = $1 WHERE round = $2 AND status = 'open'", [deadlineAt, round]);
  }

  async addUpdate(round: number, clientId: number, body: Uint8Array): Promise<AddUpdateResult> {
    // one statement: the round row's key-share lock makes a concurrent closeRound wait for this
    // insert (and this insert, once the close holds the row, wait and find the round closed)
    const inserted = await this.pool.query({
      name: 'fedrec-add-update',
      text: `WITH open AS (SELECT round FROM rounds WHERE round = $1 AND status = 'open' FOR KEY SHARE)
       INSERT INTO updates (round, client_id, body, received_at) SELECT round, $2, $3, $4 FROM open ON CONFLICT DO NOTHING`,
      values: [round, clientId, toBuffer(body), Date.now()],
    });
    if (inserted.rowCount === 1) return 'added';
    return (await this.hasUpdate(round, clientId)) ? 'duplicate' : 'round-not-open';
  }

  async updateCount(round: number): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM updates WHERE round = $1', [round])).rows[0].n;
  }

  async updatesOf(round: number): Promise<StoredUpdate[]> {
    return this.tx((c) => this.readUpdates(c, round));
  }

  async hasUpdate(round: number, clientId: number): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM updates WHERE round = $1 AND client_id = $2', [round, clientId])).rowCount ?? 0) > 0;
  }

  async completeRound(closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): Promise<void> {
    await this.tx((c) => this.complete(c, closed, model, serverState, next));
  }

  async closeRound(round: number, fold: (updates: StoredUpdate[]) => FoldedRound): Promise<CloseRoundResult> {
    return this.tx(async (c) => {
      const locked = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [LOCK, round]);
      if (!locked.rows[0].ok) return 'busy';
      if (!(await c.query("SELECT 1 FROM rounds WHERE round = $1 AND status = 'open' FOR UPDATE", [round])).rowCount) return 'not-open';
      const f = fold(await this.readUpdates(c, round));
      if (this.closePause?.round === round) {
        const { ms } = this.closePause;
        this.closePause = null;
        process.stderr.write(`fedrec serve: fault injection: pausing ${ms} ms inside the close of round ${round}\n`);
        await new Promise((r) => setTimeout(r, ms));
      }
      await this.complete(c, f.closed, f.model, f.serverState, f.next);
      return 'closed';
    });
  }

  async putProtocolMessage(round: number, phase: string, clientId: number, body: Uint8Array): Promise<AddUpdateResult> {
    // as addUpdate: stored only while the round row is open (key-share lock against a concurrent close)
    const inserted = await this.pool.query(
      `WITH open AS (SELECT round FROM rounds WHERE round = $1 AND status = 'open' FOR KEY SHARE)
       INSERT INTO protocol_messages (round, phase, client_id, body, received_at) SELECT round, $2, $3, $4, $5 FROM open ON CONFLICT DO NOTHING`,
      [round, phase, clientId, toBuffer(body), Date.now()],
    );
    if (inserted.rowCount === 1) return 'added';
    const exists = await this.pool.query('SELECT 1 FROM protocol_messages WHERE round = $1 AND phase = $2 AND client_id = $3', [round, phase, clientId]);
    return (exists.rowCount ?? 0) > 0 ? 'duplicate' : 'round-not-open';
  }

  async protocolMessages(round: number, phase: string): Promise<ProtocolMessage[]> {
    const { rows } = await this.pool.query<{ client_id: number; body: Buffer }>(
      'SELECT client_id, body FROM protocol_messages WHERE round = $1 AND phase = $2 ORDER BY client_id',
      [round, phase],
    );
    return rows.map((r) => ({ clientId: r.client_id, body: toBytes(r.body) }));
  }

  async closedRounds(): Promise<ClosedRound[]> {
    const { rows } = await this.pool.query<{ round: number; clients: number; loss: number; closed_at: number }>(
      "SELECT round, clients, loss, closed_at FROM rounds WHERE status = 'closed' ORDER BY round",
    );
    return rows.map((r) => ({ round: r.round, clients: r.clients, loss: r.loss, closedAt: r.closed_at }));
  }

  async claimExclusive(_role: 'secure-aggregation'): Promise<boolean> {
    if (this.exclusive) return true;
    const c = await this.pool.connect();
    // the lock lives as long as this session; a connection killed while held must not crash the process
    c.on('error', () => undefined);
    const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK, LOCK_SECURE]);
    if (!rows[0].ok) {
      c.release();
      return false;
    }
    this.exclusive = c;
    return true;
  }

  async close(): Promise<void> {
    this.exclusive?.release(true);
    this.exclusive = null;
    await this.pool.end();
  }

  /** Run `work` in one transaction on one pooled connection; a failed connection is discarded. */
  private async tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    // the pool listens for errors only on idle connections: one killed while checked out (e.g. by
    // pg_terminate_backend between two statements) would otherwise be an uncaught 'error' event
    const onError = (err: Error): void => {
      broken = err;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const result = await work(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      c.removeListener('error', onError);
      c.release(broken);
    }
  }

  private async complete(c: pg.PoolClient, closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): Promise<void> {
    const done = await c.query(
      "UPDATE rounds SET status = 'closed', closed_at = $1, clients = $2, loss = $3 WHERE round = $4 AND status = 'open'",
      [closed.closedAt, closed.clients, closed.loss, closed.round],
    );
    if (done.rowCount !== 1) throw new Error(`round ${closed.round} is not open: cannot complete it`);
    await c.query('INSERT INTO checkpoints (version, model, server_state, created_at) VALUES ($1, $2, $3, $4)', [closed.round, toBuffer(model), serverState && toBuffer(serverState), closed.closedAt]);
    await c.query('DELETE FROM updates WHERE round <= $1', [closed.round]);
    await c.query('DELETE FROM protocol_messages WHERE round <= $1', [closed.round]);
    await c.query('DELETE FROM checkpoints WHERE version <= $1', [closed.round - this.keepCheckpoints]);
    if (next) await this.insertRoundRow(c, next);
  }

  /** The round's updates in client-id order, as raw bytes (binary COPY: no hex text, see pg-copy-rows.ts). */
  private async readUpdates(c: pg.PoolClient, round: number): Promise<StoredUpdate[]> {
    if (!Number.isSafeInteger(round)) throw new Error(`round must be an integer, got ${round}`); // COPY takes no parameters
    const rows = await copyIdBytesRows(c, `SELECT client_id, body FROM updates WHERE round = ${round} ORDER BY client_id`);
    return rows.map((r) => ({ clientId: r.id, body: r.bytes }));
  }

  /** 1 when inserted, 0 when this round exists or another round is open (both unique indexes are arbiters). */
  private async insertRoundRow(c: pg.Pool | pg.PoolClient, r: RoundRecord): Promise<number> {
    const res = await c.query(
      "INSERT INTO rounds (round, status, seed, selected, opened_at, deadline_at) VALUES ($1, 'open', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
      [r.round, r.seed, r.selected === null ? null : JSON.stringify(r.selected), r.openedAt, r.deadlineAt],
    );
    return res.rowCount ?? 0;
  }
}
