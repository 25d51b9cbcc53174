/**
 * Coordinator contracts. `Store` is everything the coordinator keeps across a crash: the client
 * registry (token hashes only), the model checkpoint after each aggregated round (with the server
 * optimiser's state of the same round), the open round
 * and the updates accepted in it. Each method is atomic (one transaction): after SIGKILL at any
 * moment the store holds either the state before a call or the state after it, never a mixture.
 * `SqliteStore` implements it on one SQLite file.
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

export interface Store {
  /** Register a client; the token is stored as its hash only. Ids are 0, 1, 2, … in creation order. Optional expiry (ms since the epoch). */
  createClient(tokenHash: string, label: string, expiresAt?: number | null): ClientRecord;
  /** The client of a token; null when unknown, revoked or expired. Asked at every request (never cached). */
  clientByTokenHash(tokenHash: string): ClientRecord | null;
  clientCount(): number;

  /** A value set once per database (e.g. the model's shape), to refuse a mismatched restart. */
  getMeta(key: string): string | null;
  setMeta(key: string, value: string): void;

  latestCheckpoint(): Checkpoint | null;
  /** Write the initial model (version 0) with the initial server state, and open the first round when given, in one transaction. */
  initialise(model: Uint8Array, serverState: Uint8Array | null, first: RoundRecord | null): void;

  openRound(): RoundRecord | null;
  /** Open a round (when none is open, e.g. after a restart between rounds). */
  insertRound(round: RoundRecord): void;
  /** Push the deadline of the open round (quorum not reached, or a restart). */
  extendDeadline(round: number, deadlineAt: number): void;

  /** Store an accepted update; one per client per round. */
  addUpdate(round: number, clientId: number, body: Uint8Array): AddUpdateResult;
  updateCount(round: number): number;
  /** Updates of a round ordered by client id (the fixed aggregation order). */
  updatesOf(round: number): StoredUpdate[];
  hasUpdate(round: number, clientId: number): boolean;

  /**
   * Atomically: write the checkpoint of `closed.round` (the model and the server state after it),
   * mark the round closed with its summary, drop its updates and old checkpoints, and open `next`
   * (null after the last round).
   */
  completeRound(closed: ClosedRound, model: Uint8Array, serverState: Uint8Array | null, next: RoundRecord | null): void;
  closedRounds(): ClosedRound[];

  /**
   * Messages of a round protocol with several phases (secure aggregation), keyed by (round, phase,
   * client): stored only while `round` is open, one per key ('duplicate' otherwise), dropped by
   * `completeRound` with the round's updates. Optional: a coordinator configured for secure
   * aggregation refuses to start on a store without them.
   */
  putProtocolMessage?(round: number, phase: string, clientId: number, body: Uint8Array): AddUpdateResult;
  /** The messages of (round, phase) ordered by client id. */
  protocolMessages?(round: number, phase: string): ProtocolMessage[];

  close(): void;
}
