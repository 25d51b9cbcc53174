/**
 * Coordinator contracts. `Store` is everything the coordinator keeps across a crash: the client
 * registry (token hashes only), the model checkpoint after each aggregated round (with the server
 * optimiser's state of the same round), the open round
 * and the updates accepted in it. Each method is atomic (one transaction): after SIGKILL at any
 * moment the store holds either the state before a call or the state after it, never a mixture.
 * `SqliteStore` implements it on one SQLite file, `PostgresStore` on a PostgreSQL database that
 * several coordinator replicas may share.
 */

export interface ClientRecord {
  readonly id: number;
  readonly label: string;
}

export interface RoundRecord {
  readonly round: number;
  readonly seed: number;
  /** Client ids chosen for the round, or null when every registered client may take part. */
  readonly selected: readonly number[] | null;
  readonly openedAt: number;
  readonly deadlineAt: number;
}

export interface StoredUpdate {
  readonly clientId: number;
  /** The validated (and possibly clipped) update as a wire message. */
  readonly body: Uint8Array;
}

export interface Checkpoint {
  /** Completed rounds (0: the initial model). */
  readonly version: number;
  /** The global tables as a wire model message. */
  readonly model: Uint8Array;
  /**
   * The strategy's server state after the same round (`Strategy.serverState`: Adam moments,
   * momentum) as a wire state message; null for a strategy that keeps none.
   */
  readonly serverState: Uint8Array | null;
}

export interface ClosedRound {
  readonly round: number;
  readonly clients: number;
  readonly loss: number;
  readonly closedAt: number;
}

export type AddUpdateResult = 'added' | 'duplicate' | 'round-not-open';

/** One stored message of a multi-phase round protocol (secure aggregation, server/secure-round.ts). */
export interface ProtocolMessage {
  readonly clientId: number;
  readonly body: Uint8Array;
}

/** What `closeRound`'s fold returns: the summary, the model and server state after the round, and the next round (or null). */
export interface FoldedRound {
  readonly closed: ClosedRound;
  readonly model: Uint8Array;
  readonly serverState: Uint8Array | null;
  readonly next: RoundRecord | null;
}

/** 'closed': this call folded and checkpointed the round; 'not-open': it was not open (closed already); 'busy': another process is closing it. */
export type CloseRoundResult = 'closed' | 'not-open' | 'busy';

/**
 * Every method is asynchronous (a database server answers over a socket); each is still one
 * transaction. Several coordinator processes (replicas) may share one store when `shared` is true:
 * every state change then goes through the database, never through one process's memory.
 */
export interface Store {
  /** True when several coordinator replicas may use this store at once (PostgreSQL). */
  readonly shared: boolean;

  /** Register a client; the token is stored as its hash only. Ids are 0, 1, 2, … in creation order. Optional expiry (ms since the epoch). */
  createClient(tokenHash: string, label: string, expiresAt?: number | null): Promise<ClientRecord>;
  /** The client of a token; null when unknown, revoked or expired. Read from the database (a revocation by any process counts at once). */
  clientByTokenHash(tokenHash: string): Promise<ClientRecord | null>;
  /** Revoke the token of client `id` (it keeps its id). False when no such client. */
  revokeClient(id: number): Promise<boolean>;
  /** Revoke the client holding a token (by its hash); its id, or null when the token is unknown. */
  revokeToken(tokenHash: string): Promise<number | null>;
  clientCount(): Promise<number>;

  /** A value set once per database (e.g. the model's shape), to refuse a mismatched restart. */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Set `key` unless it is set already; returns the value stored after the call (first writer wins). */
  setMetaOnce(key: string, value: string): Promise<string>;

  latestCheckpoint(): Promise<Checkpoint | null>;
  /** The version of the latest checkpoint (cheap: no model bytes), null before `initialise`. */
  checkpointVersion(): Promise<number | null>;
  /**
   * Write the initial model (version 0) with the initial server state, and open the first round
   * when given, in one transaction. False (and nothing written) when the store already holds a
   * checkpoint (another replica initialised it first).
   */
  initialise(model: Uint8Array, serverState: Uint8Array | null, first: RoundRecord | null): Promise<boolean>;

  openRound(): Promise<RoundRecord | null>;
  /** Open a round (when none is open). False (nothing written) when a round is open already or this round exists. */
  insertRound(round: RoundRecord): Promise<boolean>;
  /** Push the deadline of the open round (quorum not reached, or a restart). */
  extendDeadline(round: number, deadlineAt: number): Promise<void>;

  /** Store an accepted update; one per client per round. Never stored in a round that is not open (it would be lost at close). */
  addUpdate(round: number, clientId: number, body: Uint8Array): Promise<AddUpdateResult>;
  updateCount(round: number): Promise<number>;
  /** Updates of a round ordered by client id (the fixed aggregation order). */
  updatesOf(round: number): Promise<StoredUpdate[]>;
  hasUpdate(round: number, clientId: number): Promise<boolean>;

  /**
   * Atomically: write the checkpoint of `closed.round` (the model and the server state after it),
   * mark the round closed with its summary, drop its updates and old checkpoints, and open `next`
   * (null after the last round). Throws when the round is not open.
   */
  completeRound(closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): Promise<void>;
  /**
   * Close `round` in one transaction that excludes every other closer and every `addUpdate` of the
   * round: read its updates (client-id order), call `fold` (synchronous, pure: it may run and be
   * discarded when the transaction fails), and commit as `completeRound`. Exactly one caller
   * ever gets 'closed' for a round.
   */
  closeRound(round: number, fold: (updates: StoredUpdate[]) => FoldedRound): Promise<CloseRoundResult>;
  closedRounds(): Promise<ClosedRound[]>;

  /**
   * Messages of a round protocol with several phases (secure aggregation), keyed by (round, phase,
   * client): stored only while `round` is open, one per key ('duplicate' otherwise), dropped by
   * `completeRound` / `closeRound` with the round's updates. Optional: a coordinator configured for
   * secure aggregation refuses to start on a store without them.
   */
  putProtocolMessage?(round: number, phase: string, clientId: number, body: Uint8Array): Promise<AddUpdateResult>;
  /** The messages of (round, phase) ordered by client id. */
  protocolMessages?(round: number, phase: string): Promise<ProtocolMessage[]>;

  /**
   * Claim a role only one process may hold on a shared store at a time, until `close` (secure
   * aggregation keeps its protocol state in one coordinator's memory). False when another process
   * holds it. Optional: a store only one process opens needs none.
   */
  claimExclusive?(role: 'secure-aggregation'): Promise<boolean>;

  close(): Promise<void>;
}
