/**
 * Secure aggregation in the coordinator (Bonawitz et al., CCS 2017; SecAgg+, Bell et al., CCS 2020):
 * the coordinator delegates every open round to this module when `coordinator.secureAggregation`
 * is set. It runs the protocol's server state machine (secagg/server.ts) over the HTTP API
 * (`GET /v1/secagg`, `POST /v1/secagg/{keys,shares,masked,unmask}`, server/secure-routes.ts):
 *  - every accepted message is committed to the store (`putProtocolMessage`, one row per
 *    (round, phase, client)) before it is applied and acknowledged; a phase closes (all expected
 *    clients answered, or its deadline passed) by first storing a 'closed' marker. After SIGKILL the
 *    round is rebuilt by replaying the stored messages and markers in order: nothing accepted is
 *    lost and every client finds the phase it left;
 *  - when the unmask phase closes the sum is unmasked and handed to the coordinator, which folds
 *    it like a plain round (`SecureSum.acceptSum`) and checkpoints; fewer than t clients at any
 *    close abort the round: the coordinator closes it with the model unchanged and opens the next.
 * The coordinator never sees an update in the clear: only keys, ciphertexts it cannot open,
 * masked vectors (uniformly random on their own) and the shares that remove the masks of the sum.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { ParamInfo } from '../models/types.js';
import { tableSlots, vectorLength, type Encoding, type TableSlot } from '../secagg/fixed-point.js';
import { shareThreshold } from '../secagg/graph.js';
import { SecAggServer } from '../secagg/server.js';
import type { SecureAggregationOptions } from '../secagg/settings.js';
import { PHASES, SecAggAbort, SecAggRefusal, type SecAggPhase, type SecAggSettings } from '../secagg/types.js';
import { keysOf, keysSchema, maskedOf, parseJson, sharesOf, sharesSchema, unmaskOf, unmaskSchema, viewBody, type ViewBody } from '../secagg/wire.js';
import { HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { RoundRecord, Store } from './types.js';

/** The plan's `secure` field: what a client needs to encode its update and run the protocol. */
export interface SecurePlan {
  readonly threshold: number;
  readonly neighbours: number | null;
  readonly participants: number;
  readonly clip: number;
  readonly weighting: 'examples' | 'uniform';
  readonly nItems: number;
  readonly tables: readonly TableSlot[];
  readonly vectorLength: number;
}

/** What the coordinator does when a secure round ends. */
export interface SecureRoundHost {
  /** Fold the unmasked sum of `contributors` into the model and checkpoint (the round closes). Queued by the host, never awaited here. */
  aggregate(open: RoundRecord, sum: Uint32Array, encoding: Encoding, contributors: readonly number[]): Promise<void>;
  /** Close the round with the model unchanged (too few clients to finish safely). Queued by the host, never awaited here. */
  abort(open: RoundRecord, reason: string): Promise<void>;
}

interface Current {
  readonly round: number;
  readonly planned: readonly number[];
  readonly settings: SecAggSettings;
  readonly encoding: Encoding;
  readonly server: SecAggServer;
  phaseDeadline: number;
  /** The unmask phase closed: the sum is being unmasked (messages are refused). */
  finishing: boolean;
}

const PLANNED = 'planned';
const CLOSED = 'closed';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SecureRounds {
  private current: Current | null = null;
  /** Store reads and writes interleave with requests: receiving, closing a phase and rebuilding a round run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly rounds: Counter<'outcome'>;
  private readonly phaseGauge: Gauge;
  private readonly enabled: Gauge;

  constructor(
    private readonly store: Store,
    readonly options: SecureAggregationOptions,
    private readonly info: readonly ParamInfo[],
    private readonly nItems: number,
    private readonly weighting: 'examples' | 'uniform',
    private readonly phaseMs: number,
    private readonly host: SecureRoundHost,
    metrics: Metrics,
    private readonly log: FastifyBaseLogger,
  ) {
    if (!store.putProtocolMessage || !store.protocolMessages) throw new Error('coordinator.secureAggregation: this store keeps no protocol messages (putProtocolMessage / protocolMessages)');
    this.rounds = new Counter({ name: 'fedrec_secure_rounds_total', help: 'Secure-aggregation rounds by outcome (aggregated, aborted)', labelNames: ['outcome'] as const, registers: [metrics.registry] });
    this.phaseGauge = new Gauge({ name: 'fedrec_secure_phase', help: 'Open secure-aggregation phase: 0 none, 1 keys, 2 shares, 3 masked, 4 unmask', registers: [metrics.registry] });
    this.enabled = new Gauge({ name: 'fedrec_secure_aggregation', help: '1 when rounds use secure aggregation (the coordinator sees only sums)', registers: [metrics.registry] });
    this.enabled.set(1);
  }

  /** Count a finished round (called by the coordinator once its checkpoint is written). */
  recordOutcome(outcome: 'aggregated' | 'aborted'): void {
    this.rounds.inc({ outcome });
    this.phaseGauge.set(0);
  }

  /** Load (or rebuild from the store) the state machine of `open`: call before `planField` / `joined`. */
  async prepare(open: RoundRecord, registered: number): Promise<void> {
    if (this.current?.round === open.round) return;
    await this.exclusive(() => this.ensure(open, registered));
  }

  /** The plan field of `open` (participants fixed when the round opened); `prepare` first. */
  planField(open: RoundRecord): SecurePlan {
    const c = this.prepared(open);
    return {
      threshold: c.settings.threshold,
      neighbours: c.settings.neighbours,
      participants: c.planned.length,
      clip: this.options.clip,
      weighting: this.weighting,
      nItems: this.nItems,
      tables: c.encoding.tables,
      vectorLength: c.settings.vectorLength,
    };
  }

  /** The client has started this round's protocol (its /v1/round says wait from then on); `prepare` first. */
  joined(open: RoundRecord, clientId: number): boolean {
    const v = this.prepared(open).server.viewFor(clientId);
    return v.phase !== 'keys';
  }

  async view(open: RoundRecord | null, registered: number, clientId: number, lastRound: number): Promise<ViewBody> {
    if (!open) return { phase: 'closed', round: lastRound, reason: 'no round is open' };
    await this.prepare(open, registered);
    const c = this.prepared(open);
    if (c.finishing) return { phase: 'finished', round: c.round, reason: 'unmasking the sum' };
    return viewBody(c.server.viewFor(clientId), c.round);
  }

  /** Accept one protocol message: parse, check, store, apply; a refusal is logged with its reason. */
  async receive(open: RoundRecord | null, registered: number, clientId: number, phase: SecAggPhase, body: Uint8Array, roundOfBody: number | null): Promise<{ accepted: true; round: number; phase: SecAggPhase }> {
    try {
      return await this.exclusive(() => this.accept(open, registered, clientId, phase, body, roundOfBody));
    } catch (err) {
      if (err instanceof HttpError) this.log.info({ clientId, phase, error: err.code, reason: err.message }, 'secure aggregation: message refused');
      throw err;
    }
  }

  private async accept(open: RoundRecord | null, registered: number, clientId: number, phase: SecAggPhase, body: Uint8Array, roundOfBody: number | null): Promise<{ accepted: true; round: number; phase: SecAggPhase }> {
    if (!open) throw new HttpError(409, 'round-closed', 'no round is open');
    const c = await this.ensure(open, registered);
    if (this.current !== c) throw new HttpError(409, 'round-closed', `round ${c.round} ended`);
    const refuse = (err: unknown): never => {
      if (err instanceof SecAggRefusal) throw new HttpError(err.status, err.code, err.message);
      throw new HttpError(400, 'malformed', `malformed ${phase} message: ${(err as Error).message}`);
    };
    if (c.finishing) throw new HttpError(409, 'phase-closed', `the unmask phase of round ${c.round} is closed`);
    let apply: () => void;
    let round: number;
    try {
      if (phase === 'keys') {
        const b = parseJson(body, keysSchema, 'keys');
        const m = keysOf(b);
        round = b.round;
        this.sameRound(c, round);
        c.server.checkKeys(clientId, m);
        apply = () => c.server.addKeys(clientId, m);
      } else if (phase === 'shares') {
        const b = parseJson(body, sharesSchema, 'shares');
        const m = sharesOf(b);
        round = b.round;
        this.sameRound(c, round);
        c.server.checkShares(clientId, m);
        apply = () => c.server.addShares(clientId, m);
      } else if (phase === 'masked') {
        round = roundOfBody ?? -1;
        this.sameRound(c, round);
        const y = maskedOf(body);
        c.server.checkMasked(clientId, y);
        apply = () => c.server.addMasked(clientId, y);
      } else {
        const b = parseJson(body, unmaskSchema, 'unmask');
        const m = unmaskOf(b);
        round = b.round;
        this.sameRound(c, round);
        c.server.checkUnmask(clientId, m);
        apply = () => c.server.addUnmask(clientId, m);
      }
    } catch (err) {
      return refuse(err);
    }
    const put = await (this.store.putProtocolMessage as NonNullable<Store['putProtocolMessage']>).call(this.store, c.round, phase, clientId, body);
    if (put === 'duplicate') throw new HttpError(409, 'duplicate', `client ${clientId} already sent its ${phase} message for round ${c.round}`);
    if (put === 'round-not-open') throw new HttpError(409, 'round-closed', `round ${c.round} closed before the message was stored`);
    apply();
    return { accepted: true, round: c.round, phase };
  }

  /** Close the open phase when complete or past its deadline; unmask and hand over the sum at the end. */
  tick(open: RoundRecord, registered: number, now: number): Promise<void> {
    return this.exclusive(() => this.tickNow(open, registered, now));
  }

  private async tickNow(open: RoundRecord, registered: number, now: number): Promise<void> {
    const c = await this.ensure(open, registered);
    if (c.finishing || this.current !== c) return;
    const s = c.server;
    if (!(s.complete() && s.received() > 0) && now < c.phaseDeadline) return;
    const phase = s.phase;
    this.log.info({ round: c.round, phase, received: s.received(), expected: s.expected().length, why: s.complete() ? 'all answered' : 'deadline' }, 'secure aggregation: phase closing');
    await this.markClosed(c, phase);
    try {
      this.applyClose(c, phase);
    } catch (err) {
      if (err instanceof SecAggAbort) return this.abort(c, open, err.message);
      throw err;
    }
    c.phaseDeadline = now + this.phaseMs;
    if (phase === 'unmask') this.finish(c, open);
  }

  private finish(c: Current, open: RoundRecord): void {
    c.finishing = true;
    c.server.finish().then(
      (sum) => {
        if (this.current !== c) return;
        this.current = null;
        void this.host.aggregate(open, sum, c.encoding, c.server.contributors());
      },
      (err: unknown) => {
        if (this.current !== c) return;
        if (err instanceof SecAggAbort) return this.abort(c, open, err.message);
        c.finishing = false;
        this.log.error({ err, round: c.round }, 'secure aggregation: unmasking failed');
      },
    );
  }

  private abort(c: Current, open: RoundRecord, reason: string): void {
    this.log.warn({ round: c.round, reason, ...c.server.counts() }, 'secure aggregation: round aborted');
    this.current = null;
    void this.host.abort(open, reason);
  }

  /** Run `work` after the work already queued (never concurrently with another receive / tick / rebuild). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The state machine of `open`, which `prepare` (or a receive / tick) has loaded. */
  private prepared(open: RoundRecord): Current {
    if (this.current?.round !== open.round) throw new Error(`secure aggregation: round ${open.round} used before prepare()`);
    return this.current;
  }

  private sameRound(c: Current, round: number): void {
    if (round !== c.round) throw new SecAggRefusal(409, 'round-closed', `message for round ${round}: the open round is ${c.round}`);
  }

  private async markClosed(c: Current, phase: SecAggPhase): Promise<void> {
    await (this.store.putProtocolMessage as NonNullable<Store['putProtocolMessage']>).call(this.store, c.round, CLOSED, PHASES.indexOf(phase), encoder.encode(phase));
  }

  private applyClose(c: Current, phase: SecAggPhase): void {
    const s = c.server;
    if (phase === 'keys') s.closeKeys();
    else if (phase === 'shares') s.closeShares();
    else if (phase === 'masked') s.closeMasked();
    this.phaseGauge.set(PHASES.indexOf(s.phase) + 1);
  }

  /** The state machine of the open round: built at its first use, from the store after a restart. */
  private async ensure(open: RoundRecord, registered: number): Promise<Current> {
    if (this.current?.round === open.round) return this.current;
    const list = this.store.protocolMessages as NonNullable<Store['protocolMessages']>;
    const stored = await list.call(this.store, open.round, PLANNED);
    let planned: number[];
    if (stored.length > 0) planned = JSON.parse(decoder.decode(stored[0].body)) as number[];
    else {
      planned = open.selected ? [...open.selected].sort((a, b) => a - b) : Array.from({ length: registered }, (_, k) => k);
      await (this.store.putProtocolMessage as NonNullable<Store['putProtocolMessage']>).call(this.store, open.round, PLANNED, 0, encoder.encode(JSON.stringify(planned)));
    }
    const encoding: Encoding = { tables: tableSlots(this.info), nItems: this.nItems, participants: planned.length, clip: this.options.clip, weighting: this.weighting };
    const neighbours = this.options.neighbours ?? null;
    const settings: SecAggSettings = { round: open.round, threshold: shareThreshold(this.options.threshold, planned.length, neighbours), neighbours, vectorLength: vectorLength(encoding) };
    // the keys phase lasts the round's deadline (clients train first); the later phases phaseMs each
    const c: Current = { round: open.round, planned, settings, encoding, server: new SecAggServer(settings, planned), phaseDeadline: open.deadlineAt, finishing: false };
    // replay: each phase's messages, then its close when one was stored (read before `current` is set: no await after)
    const closed = new Set((await list.call(this.store, open.round, CLOSED)).map((m) => m.clientId));
    const messages = new Map<SecAggPhase, Awaited<ReturnType<typeof list>>>();
    for (const phase of PHASES) messages.set(phase, await list.call(this.store, open.round, phase));
    this.current = c;
    let replayed = 0;
    for (const [k, phase] of PHASES.entries()) {
      for (const m of messages.get(phase) ?? []) {
        if (phase === 'keys') c.server.addKeys(m.clientId, keysOf(parseJson(m.body, keysSchema, 'stored keys')));
        else if (phase === 'shares') c.server.addShares(m.clientId, sharesOf(parseJson(m.body, sharesSchema, 'stored shares')));
        else if (phase === 'masked') c.server.addMasked(m.clientId, maskedOf(m.body));
        else c.server.addUnmask(m.clientId, unmaskOf(parseJson(m.body, unmaskSchema, 'stored unmask')));
        replayed++;
      }
      if (!closed.has(k)) break;
      if (phase === 'unmask') {
        this.finish(c, open);
        break;
      }
      try {
        this.applyClose(c, phase);
      } catch (err) {
        if (!(err instanceof SecAggAbort)) throw err;
        // decided before a crash, not yet written: abort again (after the caller's current step)
        setImmediate(() => this.current === c && this.abort(c, open, err.message));
        break;
      }
    }
    if (c.server.phase !== 'keys') c.phaseDeadline = Date.now() + this.phaseMs;
    this.phaseGauge.set(PHASES.indexOf(c.server.phase) + 1);
    if (replayed > 0) this.log.info({ round: open.round, phase: c.server.phase, replayed }, 'secure aggregation: round restored from the store');
    return c;
  }
}
