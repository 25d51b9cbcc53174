/**
 * Client contracts. A `Transport` carries the protocol (wire/protocol.ts) to a coordinator; the
 * HTTP implementation uses `fetch`, so the same client runs in Node and in a browser tab.
 * A `TransportError` says whether retrying can help (network failure, 5xx, 429) or not (4xx).
 */
import type { GlobalParams } from '../models/types.js';
import type { Catalogue, RoundInfo, UpdateAck } from '../wire/protocol.js';
import type { SecAggPhase } from '../secagg/types.js';
import type { ViewBody } from '../secagg/wire.js';

export interface Transport {
  round(): Promise<RoundInfo>;
  model(): Promise<{ version: number; global: GlobalParams }>;
  submit(update: Uint8Array): Promise<UpdateAck>;
  catalogue(): Promise<Catalogue>;
  /** Graph aggregation (src/algorithms/graph.ts): this client's personal rows, as a binary message. */
  personal?(): Promise<{ version: number; bytes: Uint8Array }>;
  /** Secure aggregation (client/secure-round.ts): the client's next step in the open secure round. */
  secureView?(): Promise<ViewBody>;
  /** Send one secure-aggregation message (JSON bodies; the masked vector as binary). */
  secureSend?(phase: SecAggPhase, body: Uint8Array, round: number): Promise<void>;
}

export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    /** HTTP status, or null when no response came (connection refused, reset, timeout). */
    readonly status: number | null,
    /** The server's error code (`round-closed`, `duplicate`, …) or 'network'. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429;
  }
}

/** Where a client's progress is reported (a log line in Node, the page in a browser). */
export type ClientEvent =
  | { readonly type: 'joined'; readonly clientId: number }
  | { readonly type: 'waiting'; readonly round: number; readonly reason: string }
  | { readonly type: 'trained'; readonly round: number; readonly loss: number; readonly bytes: number }
  | { readonly type: 'accepted'; readonly round: number; readonly clipped: boolean }
  | { readonly type: 'skipped'; readonly round: number; readonly reason: string }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly error: string }
  | { readonly type: 'done'; readonly version: number };
