/**
 * The join loop of a client, the same in Node and in a browser tab:
 *  1. ask the coordinator for the round (train / wait / done), retrying transient failures with
 *     back-off — so a client rides out a coordinator restart and resumes where it is;
 *  2. on 'train': fetch the model of version round − 1, run the named client work (FedAvg:
 *     `runClientRound`; FedRecon: `runFedReconClient`, stateless) on the client's own data with its randomness derived from the plan seed
 *     and its id, encode the update and send it (the same bytes again on a retry);
 *  3. keep the new local state only once the update is accepted (or already was: a 409
 *     'duplicate' after a lost response); an update refused because the round closed is dropped;
 *  4. stop on 'done', at `maxRounds` of own updates, or after `maxDurationMs`.
 * The client's data and local (user) tables never leave this object.
 */
import { clientNegativeSource } from '../federated/client-work.js';
import type { ClientData, ClientState, RoundPlan } from '../federated/types.js';
import type { GlobalParams } from '../models/types.js';
import type { NegativeSource } from '../train/examples.js';
import { encodeUpdate } from '../wire/messages.js';
import type { Catalogue, RoundInfo } from '../wire/protocol.js';
import type { LocalData } from './local-data.js';
import { sleep, withRetries, type RetryOptions } from './retry.js';
import { TransportError, type ClientEvent, type Transport } from './types.js';
import { clientWork, deviceNeedsOf, type DeviceInputs } from './works.js';
// Client works registered in their own (browser-safe) modules; LightGCN / NCL's use the
// WebAssembly kernels' Node threads and are registered by the Node client (node-client.ts).
import { secureRound } from './secure-round.js';
import type { SecAggPhase } from '../secagg/types.js';

export interface ParticipantOptions {
  readonly maxRounds?: number;
  readonly maxDurationMs?: number;
  readonly retry?: RetryOptions;
  readonly onEvent?: (event: ClientEvent) => void;
  /** Fault injection for tests: wait this long between training and sending, ms. */
  readonly pauseBeforeSubmitMs?: number;
  /** Fault injection for tests: in a secure round, vanish from it just before the phase named for that round. */
  readonly secureDropBefore?: (round: number) => SecAggPhase | undefined;
}

export interface FinalModel {
  readonly info: Extract<RoundInfo, { status: 'done' }> | Extract<RoundInfo, { status: 'train' }>;
  readonly version: number;
  readonly global: GlobalParams;
  /** What the work reads besides the model (personal rows, prepared inputs), for on-device scoring. */
  readonly device?: DeviceInputs;
}

export class Participant {
  state: ClientState | null = null;
  clientId: number | null = null;
  roundsSent = 0;
  /** The last round this participant sent (or gave up) an update for, as `step` tracks it. */
  lastRound = 0;
  private sampler: NegativeSource | null = null;
  /** Inputs the work prepared once from this device's data (text-graph: text vectors). */
  private prepared: { readonly algorithm: string; readonly value: unknown } | null = null;

  constructor(
    readonly transport: Transport,
    readonly catalogue: Catalogue,
    readonly local: LocalData,
  ) {}

  data(): ClientData {
    if (this.clientId === null) throw new Error('client id unknown: join first');
    return { ...this.local.data, clientId: this.clientId };
  }

  /** Run rounds until the coordinator says done (or a bound is hit); returns the last round info. */
  async run(opts: ParticipantOptions = {}): Promise<RoundInfo> {
    const emit = opts.onEvent ?? (() => undefined);
    const retry: RetryOptions = { ...opts.retry, onRetry: (attempt, delayMs, error) => emit({ type: 'retry', attempt, delayMs, error: error.message }) };
    const started = Date.now();
    const maxDurationMs = opts.maxDurationMs ?? 3_600_000;
    let lastSent = 0;
    for (;;) {
      if (Date.now() - started > maxDurationMs) throw new Error(`gave up after ${maxDurationMs} ms without the coordinator finishing`);
      const info = await withRetries(() => this.transport.round(), retry);
      if (this.clientId === null) {
        this.clientId = info.clientId;
        emit({ type: 'joined', clientId: info.clientId });
      }
      if (info.status === 'done') {
        emit({ type: 'done', version: info.round });
        return info;
      }
      if (info.status === 'wait' || info.round <= lastSent) {
        if (info.status === 'wait') emit({ type: 'waiting', round: info.round, reason: info.reason });
        await sleep(info.status === 'wait' ? info.retryAfterMs : 200);
        continue;
      }
      const model = await withRetries(() => this.transport.model(), retry);
      if (model.version !== info.modelVersion) {
        await sleep(100);
        continue;
      }
      const outcome = await this.trainAndSend(info, model.global, retry, opts, emit);
      if (outcome !== 'retry-round') lastSent = info.round;
      if (opts.maxRounds !== undefined && this.roundsSent >= opts.maxRounds) return info;
    }
  }

  /**
   * One pass of the join loop, for a scheduler running many participants in one process (it holds
   * no slot while waiting): ask for the round, and train and send when there is work.
   * 'wait' comes with how long to wait before the next step.
   */
  async step(opts: ParticipantOptions = {}): Promise<{ kind: 'done' | 'sent' } | { kind: 'wait'; retryAfterMs: number }> {
    const emit = opts.onEvent ?? (() => undefined);
    const retry: RetryOptions = { ...opts.retry, onRetry: (attempt, delayMs, error) => emit({ type: 'retry', attempt, delayMs, error: error.message }) };
    const info = await withRetries(() => this.transport.round(), retry);
    if (this.clientId === null) {
      this.clientId = info.clientId;
      emit({ type: 'joined', clientId: info.clientId });
    }
    if (info.status === 'done') {
      emit({ type: 'done', version: info.round });
      return { kind: 'done' };
    }
    if (info.status === 'wait') return { kind: 'wait', retryAfterMs: info.retryAfterMs };
    if (info.round <= this.lastRound) return { kind: 'wait', retryAfterMs: 200 };
    const model = await withRetries(() => this.transport.model(), retry);
    if (model.version !== info.modelVersion) return { kind: 'wait', retryAfterMs: 100 };
    const outcome = await this.trainAndSend(info, model.global, retry, opts, emit);
    if (outcome === 'retry-round') return { kind: 'wait', retryAfterMs: 100 }; // personal rows of a newer version: ask again
    this.lastRound = info.round;
    return { kind: 'sent' };
  }

  /** The current global model and the round info that goes with it. */
  async finalModel(retry?: RetryOptions): Promise<FinalModel> {
    const info = await withRetries(() => this.transport.round(), retry);
    if (info.status === 'wait') throw new Error(`the coordinator is between rounds (${info.reason}); no plan to score with`);
    const model = await withRetries(() => this.transport.model(), retry);
    const device = await this.deviceInputs(info, model.version, retry);
    return { info, version: model.version, global: model.global, ...(device ? { device } : {}) };
  }

  /**
   * The inputs a work needs besides the model (client/works.ts `DeviceNeeds`): its inputs prepared
   * once from this device's data, and this client's personal message of model `version` (null when
   * the coordinator has moved on since: the round is asked again).
   */
  async deviceInputs(info: { readonly algorithm: string; readonly plan: unknown }, version: number, retry?: RetryOptions): Promise<DeviceInputs | null | undefined> {
    const needs = deviceNeedsOf(info.algorithm);
    if (!needs) return undefined;
    if (this.prepared?.algorithm !== info.algorithm) {
      const value = needs.prepare ? await needs.prepare(info.plan as unknown as RoundPlan, this.local.texts ?? []) : undefined;
      this.prepared = { algorithm: info.algorithm, value };
    }
    let personal: Uint8Array | undefined;
    if (needs.personal) {
      const transport = this.transport;
      if (!transport.personal) throw new Error(`algorithm '${info.algorithm}' needs the personal download, which this transport cannot fetch`);
      const got = await withRetries(() => transport.personal!(), retry);
      if (got.version !== version) return null;
      personal = got.bytes;
    }
    return { personal, prepared: this.prepared.value };
  }

  private async trainAndSend(
    info: Extract<RoundInfo, { status: 'train' }>,
    global: GlobalParams,
    retry: RetryOptions,
    opts: ParticipantOptions,
    emit: (e: ClientEvent) => void,
  ): Promise<'accepted' | 'skipped' | 'retry-round'> {
    const data = this.data();
    this.sampler ??= clientNegativeSource(info.nItems, data);
    const device = await this.deviceInputs(info, info.modelVersion, retry);
    if (device === null) {
      await sleep(100);
      return 'retry-round';
    }
    const result = clientWork(info.algorithm)(info.plan as unknown as RoundPlan, global, data, this.state, this.sampler, device);
    const secure = (info.plan as Record<string, unknown>).secure;
    if (secure !== undefined) {
      emit({ type: 'trained', round: info.round, loss: result.update.loss, bytes: 0 });
      const outcome = await secureRound(this.transport, info.clientId, info.round, secure, result.update, { retry, dropBefore: opts.secureDropBefore?.(info.round) });
      if (outcome === 'skipped') {
        emit({ type: 'skipped', round: info.round, reason: 'left the secure round before its masked input counted' });
        return 'skipped';
      }
      this.state = result.state;
      this.roundsSent++;
      emit({ type: 'accepted', round: info.round, clipped: false });
      return 'accepted';
    }
    const bytes = encodeUpdate(result.update);
    emit({ type: 'trained', round: info.round, loss: result.update.loss, bytes: bytes.length });
    if (opts.pauseBeforeSubmitMs) await sleep(opts.pauseBeforeSubmitMs);
    try {
      const ack = await withRetries(() => this.transport.submit(bytes), retry);
      this.state = result.state;
      this.roundsSent++;
      emit({ type: 'accepted', round: info.round, clipped: ack.clipped });
      return 'accepted';
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      if (err.status === 409 && err.code === 'duplicate') {
        // Sent before, the answer was lost (e.g. the coordinator restarted): it counts once.
        this.state = result.state;
        this.roundsSent++;
        emit({ type: 'accepted', round: info.round, clipped: false });
        return 'accepted';
      }
      if (err.status === 409 || err.status === 403) {
        emit({ type: 'skipped', round: info.round, reason: err.message });
        return 'skipped';
      }
      throw err;
    }
  }
}
