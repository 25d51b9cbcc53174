/**
 * A FedAvg-family strategy (FedAvg, FedRecon), or distributed DP-FedAvg around one, fed through the
 * secure sum: each update is encoded in fixed point (fixed-point.ts) and added mod 2^64; at the
 * round's end the ring sum is decoded and folded into the inner strategy in one piece. The simulation uses it without the cryptography
 * (`accept`); the coordinator hands it the unmasked sum of a secure round (`acceptSum`). Both
 * decode the same ring sum, so a deployed secure round equals the simulated one bit for bit.
 */
import type { OptimizerState } from '../optim/types.js';
import { FedAvg } from '../federated/fedavg.js';
import type { GlobalParams } from '../models/types.js';
import type { GlobalUpdate, RoundSummary, Strategy } from '../federated/types.js';
import type { PartialAggregate } from '../federated/aggregate.js';
import { DpAggregator } from '../privacy/dp-fedavg.js';
import { addInto, decodeSum, encodeUpdate, vectorLength, type Encoding } from './fixed-point.js';

/** What a secure sum folds into: a strategy that takes a whole round's decoded sum at once. */
export interface SumFold extends Strategy {
  acceptPartial(p: PartialAggregate): void;
  serverState(): OptimizerState;
  restoreServerState(state: OptimizerState): void;
}

export class SecureSum implements Strategy {
  readonly name: string;
  private sum: Uint32Array;
  private encoding: Encoding;
  clipped = 0;

  constructor(
    private readonly inner: SumFold,
    encoding: Encoding,
  ) {
    this.name = `${inner.name}+secure-sum`;
    this.encoding = encoding;
    this.sum = new Uint32Array(vectorLength(this.encoding));
  }

  beginRound(round: number): void {
    this.sum = new Uint32Array(vectorLength(this.encoding));
    this.clipped = 0;
    this.inner.beginRound(round);
  }

  /** The clients the round was planned for (the bound the fixed-point scale comes from). */
  setParticipants(participants: number): void {
    this.encoding = { ...this.encoding, participants };
  }

  get currentEncoding(): Encoding {
    return this.encoding;
  }

  accept(update: GlobalUpdate): void {
    const { vector, clipped } = encodeUpdate(this.encoding, update);
    this.clipped += clipped;
    addInto(this.sum, vector);
  }

  /** The whole round's sum at once (the unmasked result of a secure round). */
  acceptSum(sum: Uint32Array): void {
    addInto(this.sum, sum);
  }

  endRound(global: GlobalParams): RoundSummary {
    this.inner.acceptPartial(decodeSum(this.encoding, this.sum));
    return this.inner.endRound(global);
  }

  serverState(): OptimizerState {
    return this.inner.serverState();
  }

  restoreServerState(state: OptimizerState): void {
    this.inner.restoreServerState(state);
  }
}

/**
 * What a secure sum folds into: the plain FedAvg-family mean, or distributed DP around it (each
 * device clipped and noised its own update, the sum is released as it is). Central DP and robust
 * rules need each update, which the ring sum hides.
 */
export function secureInner(strategy: Strategy): SumFold {
  if (strategy instanceof DpAggregator) {
    if (strategy.settings.mode !== 'distributed') throw new RangeError("secure aggregation with DP needs dpMode 'distributed': central DP clips each update at the server, which secure aggregation hides");
    return strategy as DpAggregator & SumFold;
  }
  if (!(strategy instanceof FedAvg)) throw new RangeError(`secure aggregation needs the plain weighted mean, not '${strategy.name}' (aggregation mean, or distributed DP)`);
  return strategy;
}
