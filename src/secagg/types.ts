/**
 * The messages of one secure-aggregation round (Bonawitz et al., CCS 2017, Fig. 4; Flower's SecAgg+
 * names the same four stages): clients advertise two public keys, send encrypted shares of their
 * mask secrets to their neighbours through the coordinator, send their masked input, and finally
 * send, for each neighbour, the share the coordinator needs (the self-mask seed's share for a
 * survivor, the mask key's share for a client that dropped out). The coordinator only relays and
 * sums; the JSON forms (base64 bytes) are in `wire.ts`.
 */

export type SecAggPhase = 'keys' | 'shares' | 'masked' | 'unmask';
export const PHASES: readonly SecAggPhase[] = ['keys', 'shares', 'masked', 'unmask'];

/** What every participant of the round is told before it starts (the plan's `secure` field). */
export interface SecAggSettings {
  readonly round: number;
  /** Shamir threshold t: shares needed to recover a secret, and the fewest clients a sum may hold. */
  readonly threshold: number;
  /** Degree k of the SecAgg+ masking graph; null: every client masks with every other (SecAgg). */
  readonly neighbours: number | null;
  /** Words of the masked vector. */
  readonly vectorLength: number;
  /**
   * The fewest survivors (masked inputs) whose sum may be unmasked, when more than t is needed —
   * distributed DP: a sum of fewer noise shares would carry less noise than the accountant charged.
   */
  readonly minSurvivors?: number;
}

export interface KeysMessage {
  /** Public key for share encryption (c_pk), raw P-256 point. */
  readonly cPk: Uint8Array;
  /** Public key for pairwise masks (s_pk). */
  readonly sPk: Uint8Array;
}

export interface SharesMessage {
  /** AES-GCM ciphertexts of (s_sk share, b share), one per neighbour id. */
  readonly shares: ReadonlyMap<number, Uint8Array>;
}

export interface UnmaskMessage {
  /** Shares of the self-mask seed b_u of each surviving neighbour u (and of oneself). */
  readonly selfShares: ReadonlyMap<number, Uint8Array>;
  /** Shares of the mask private key s_sk_u of each neighbour u that dropped out after sharing. */
  readonly keyShares: ReadonlyMap<number, Uint8Array>;
}

/** The roster a client receives after the keys phase: everyone who advertised, with the neighbours' keys. */
export interface Roster {
  readonly ids: readonly number[];
  readonly keys: ReadonlyMap<number, KeysMessage>;
}

/** What the coordinator shows one client of the round. */
export type ClientView =
  | { readonly phase: 'keys' }
  | { readonly phase: 'shares'; readonly roster: Roster }
  | { readonly phase: 'masked'; readonly incoming: ReadonlyMap<number, Uint8Array> }
  | { readonly phase: 'unmask'; readonly survivors: readonly number[]; readonly dropped: readonly number[] }
  /** The client is out of this round (did not answer a phase in time) or its part is finished. */
  | { readonly phase: 'excluded' | 'finished'; readonly reason: string };

/** A message the protocol refuses: the code is the HTTP error code the coordinator answers with. */
export class SecAggRefusal extends Error {
  override name = 'SecAggRefusal';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Too few clients left to finish the round safely (fewer than t): the round is aborted. */
export class SecAggAbort extends Error {
  override name = 'SecAggAbort';
}
