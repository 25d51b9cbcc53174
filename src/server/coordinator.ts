/**
 * The round lifecycle (S4: FedAvg loop with deadline-based rounds for stragglers):
 *  1. open round r (when at least `minClients` are registered): its seed is the simulation's round
 *     seed, its participants every registered client or `clientsPerRound` of them (seeded), its
 *     deadline now + roundDeadlineSeconds;
 *  2. clients ask for the plan and the model (version r − 1) and send one update each; an update is
 *     decoded, checked (round id, selection, once per client, shape / range / finite / norm),
 *     stored and kept in memory until its round closes — nothing else changes until then;
 *  3. the round closes when every participant has answered, or at the deadline with a quorum of
 *     `minClients` (without a quorum the deadline moves on); vanished clients are not counted;
 *  4. closing folds the round's updates into the strategy in client-id order (a fixed order, so the
 *     result equals the in-process simulation's), applies it to a copy of the model, and in one
 *     transaction checkpoints the model with the strategy's server state (server optimiser: Adam
 *     moments, momentum), marks the round closed and drops its updates.
 * State lives in the Store; after a crash the coordinator restarts from the last checkpoint and the
 * open round's stored updates, the server optimiser restored with the model: nothing accepted is
 * lost, no round is aggregated twice, and the rounds that follow equal an uninterrupted run's.
 * The fold reads the round's updates from the store inside `Store.closeRound`'s transaction, so an
 * update is either folded or refused, never acknowledged and dropped.
 * Replicas (a `shared` store, PostgreSQL): several coordinators serve the same rounds; each one
 * reads the round, the update count and the checkpoint version from the database (`sync`, on
 * every tick and whenever a request disagrees with its view), the database decides who opens and
 * who closes a round, and the others load the new checkpoint. The local view only ever lags:
 * round r is offered only with the model of version r − 1.
 */
import type { FastifyBaseLogger } from 'fastify';
import { gzipSync } from 'node:zlib';
import type { GlobalParams, ParamInfo } from '../models/types.js';
import { modelParamInfo } from '../models/registry.js';
import type { GlobalUpdate, RoundPlan, Strategy } from '../federated/types.js';
import { effectiveBatch, effectiveLr, ConfigError, recencyOf } from '../config/config.js';
import { modelConfigOf } from '../config/configured-data.js';
import { hashRoundSeed, initGlobal } from '../simulation/simulation.js';
import { sampleClients } from '../federated/partition.js';
import { foldRoundSync } from '../simulation/round-engine.js';
import { decodeModel, decodeState, decodeUpdate, encodeModel, encodeState, encodeUpdate } from '../wire/messages.js';
import { WireError, type Limits } from '../wire/types.js';
import type { Catalogue, RoundInfo, UpdateAck } from '../wire/protocol.js';
import type { ServerConfig } from './config.js';
import { HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import { isPersonalising, strategyFor, type StrategyEntry } from './strategies.js';
import { algorithmsWith, sayNames } from '../algorithms/registry.js';
// Algorithms registered in their own modules (src/algorithms/), loaded for their registrations.
import type { Checkpoint, ClientRecord, RoundRecord, Store } from './types.js';
import { InvalidUpdate, validateUpdate } from './validate.js';
import { accountedNoiseMultiplier, DpAggregator, poissonSample } from '../privacy/dp-fedavg.js';
import { checkSecureDp } from '../privacy/secure-dp.js';
import { dpSettingsOf } from '../privacy/dp-config.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { FedAvg } from '../federated/fedavg.js';
import { SecureSum } from '../secagg/secure-sum.js';
import { tableSlots, vectorLength, type Encoding } from '../secagg/fixed-point.js';
import type { SecAggPhase } from '../secagg/types.js';
import type { ViewBody } from '../secagg/wire.js';
import { SecureRounds } from './secure-round.js';

export interface CoordinatorStatus {
  readonly completedRounds: number;
  readonly totalRounds: number;
  readonly openRound: number | null;
  readonly updatesInRound: number;
  readonly registeredClients: number;
  readonly done: boolean;
  /** Rounds run secure aggregation (coordinator.secureAggregation): the coordinator sees only sums. */
  readonly secure: boolean;
}

export class Coordinator {
  readonly info: readonly ParamInfo[];
  readonly names: readonly string[];
  /** The model's local (user) tables: they stay on the devices, an update carrying one is refused. */
  readonly localNames: readonly string[];
  readonly limits: Limits;
  private global: GlobalParams;
  private version: number;
  private modelBytes: Uint8Array;
  /** What `GET /v1/model` sends: the checkpoint's bytes, or the model packed at `training.download` (wire/quantize.ts). */
  private downloadBytes: Uint8Array | null = null;
  private gzipCache: { readonly source: Uint8Array; readonly bytes: Uint8Array | null } | null = null;
  private open: RoundRecord | null = null;
  /** Ids of the clients whose update for the open round this process accepted (or found stored at start). */
  private received = new Set<number>();
  /** Updates stored for the open round: `received.size` on a store of one's own, the database's count for replicas. */
  private roundCount = 0;
  private registered = 0;
  /** Replicas: the database read in flight (requests share it) and when the last one ended. */
  private syncing: Promise<void> | null = null;
  private syncedAt = 0;
  /** Coordinator work (ticks, opening, closing) runs one piece at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly strategy: Strategy;
  private readonly clientWork: string;
  private readonly planExtras: Readonly<Record<string, unknown>>;
  private readonly entry: StrategyEntry;
  /** The plan's `model` field. */
  private readonly planModel: RoundPlan['model'];
  private timer: NodeJS.Timeout | null = null;
  private closeScheduled = false;
  /** Deadline extensions of the open round for want of a quorum (in memory: a restart starts again at 0). */
  private extensions = 0;
  private stopped = false;
  private planned: { readonly round: number; readonly plan: RoundPlan & Record<string, unknown> } | null = null;
  /** User-level DP (privacy/dp-fedavg.ts) wrapping the strategy, or null. */
  private readonly dp: DpAggregator | null;
  /** Clients registered when the open round opened: the population N it Poisson-sampled from. */
  private population = 0;
  /** Set when the next round would exceed the DP ε budget: training ends. */
  private budgetExhausted = false;
  /** Secure aggregation (server/secure-round.ts), or null: updates arrive in the clear. */
  private readonly secure: SecureRounds | null = null;

  /** Call `load()` before serving: the constructor only checks the configuration. */
  constructor(
    private readonly store: Store,
    readonly config: ServerConfig,
    readonly catalogue: Catalogue,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger,
  ) {
    const t = config.training;
    const entry = strategyFor(t);
    this.entry = entry;
    const nItems = catalogue.nItems;
    const served = entry.model?.(t, nItems) ?? null;
    const modelConfig = served ? (served.plan as RoundPlan['model']) : modelConfigOf(t);
    this.planModel = modelConfig;
    const allInfo = served ? served.info : modelParamInfo(modelConfig, 0, nItems);
    this.info = allInfo.filter((p) => p.scope === 'global');
    this.names = this.info.map((p) => p.name);
    this.localNames = allInfo.filter((p) => p.scope === 'local').map((p) => p.name);
    this.clientWork = entry.clientWork;
    this.planExtras = entry.planExtras?.(t) ?? {};
    const inner = entry.create({ info: this.info, nItems, training: t });
    const dpSettings = dpSettingsOf(t, 1);
    if (dpSettings && !algorithmsWith('sumsUpdates').includes(t.algorithm)) throw new ConfigError(`training.dpClip: user-level DP needs algorithm ${sayNames(algorithmsWith('sumsUpdates'), "'")}, not '${t.algorithm}'`);
    const sa = config.coordinator.secureAggregation;
    // distributed DP under secure aggregation: a released sum holds ≥ ⌈threshold·m⌉ noise shares (docs/privacy.md)
    const floor = sa && dpSettings?.mode === 'distributed' ? { minFraction: sa.threshold } : {};
    this.dp = dpSettings ? new DpAggregator(inner, this.info, nItems, { ...dpSettings, delta: t.dpDelta as number, ...floor }, () => this.population) : null;
    if (sa) {
      if (this.dp) checkSecureDp(this.dp, sa.clip);
      if (!(inner instanceof FedAvg)) throw new ConfigError(`coordinator.secureAggregation: works with the weighted-mean servers of algorithms 'fedavg' and 'fedrecon' (aggregation 'mean'), not ${['fedavg', 'fedrecon'].includes(t.algorithm) ? `aggregation '${t.aggregation}'` : `algorithm '${t.algorithm}'`} (docs/secure-aggregation.md)`);
      // the weighting the inner FedAvg applies in the clear (graph models weigh by examples whatever clientWeighting says)
      const weighting = inner.bounds.weighting;
      this.strategy = new SecureSum(this.dp ?? inner, { tables: tableSlots(this.info), nItems, participants: 1, clip: sa.clip, weighting });
      const phaseMs = (sa.phaseSeconds ?? config.coordinator.roundDeadlineSeconds) * 1000;
      this.secure = new SecureRounds(store, sa, this.info, nItems, weighting, phaseMs, {
        aggregate: (open, sum, encoding, contributors) => this.serial(() => this.closeSecure(open, sum, encoding, contributors)),
        abort: (open, reason) => this.serial(() => this.abortSecure(open, reason)),
        ...(this.dp ? { minContributors: () => (this.dp as DpAggregator).minContributors() } : {}),
      }, metrics, log);
    } else this.strategy = this.dp ?? inner;
    const denseBytes = this.info.reduce((n, p) => n + p.rows * p.cols * 4, 0) + nItems * 4;
    this.limits = { maxBytes: config.coordinator.maxUpdateBytes ?? served?.maxUpdateBytes ?? denseBytes + (64 << 10), maxHeaderBytes: 64 << 10 };
    // the initial model (used only when the store holds none): seeded, so every replica builds the same
    this.global = served ? served.init() : initGlobal(modelConfig, nItems, t.seed);
    const bias = config.coordinator.initialGlobalBias;
    if (bias !== undefined) {
      if (!this.global.globalBias) throw new ConfigError(`coordinator.initialGlobalBias: model '${modelConfig.kind}' has no globalBias table`);
      this.global.globalBias[0] = bias;
    }
    this.version = 0;
    this.modelBytes = encodeModel(this.global, 0, this.names);
  }

  /** Restore (or initialise) the model and the open round from the store, then open / close what is due. */
  async load(): Promise<void> {
    const t = this.config.training;
    const identity = JSON.stringify({ model: this.planModel, nItems: this.catalogue.nItems, algorithm: t.algorithm, seed: t.seed });
    if (this.secure && this.store.shared && !(await this.store.claimExclusive?.('secure-aggregation'))) {
      throw new ConfigError('coordinator.secureAggregation: another coordinator already runs secure rounds on this database; secure aggregation keeps its protocol state in one process, so run a single coordinator (replicas serve plain rounds only)');
    }
    const stored = await this.store.setMetaOnce('identity', identity);
    if (stored !== identity) {
      throw new ConfigError(`the database was created for ${stored}, but the configuration asks for ${identity}: use a fresh --db or the original config`);
    }
    if (!(await this.store.initialise(this.modelBytes, this.encodedServerState(), null))) {
      const checkpoint = await this.store.latestCheckpoint();
      if (!checkpoint) throw new Error('store is inconsistent: it was initialised but holds no checkpoint');
      this.loadCheckpoint(checkpoint);
    }
    this.open = await this.store.openRound();
    if (this.open && this.open.round !== this.version + 1 && !this.store.shared) {
      throw new Error(`store is inconsistent: round ${this.open.round} is open but the last checkpoint is version ${this.version}`);
    }
    if (this.open?.round !== this.version + 1) this.open = null;
    this.registered = await this.store.clientCount();
    this.population = this.registered;
    this.reportPrivacy();
    if (this.open) for (const u of await this.store.updatesOf(this.open.round)) this.received.add(u.clientId);
    this.roundCount = this.received.size;
    this.log.info({ version: this.version, openRound: this.open?.round ?? null, updates: this.received.size, clients: this.registered, shared: this.store.shared }, 'coordinator state loaded');
    this.metrics.currentRound.set(this.open?.round ?? 0);
    this.metrics.roundUpdates.set(this.roundCount);
    await this.serial(async () => {
      await this.maybeOpen();
      await this.maybeClose();
    });
  }

  private loadCheckpoint(checkpoint: Checkpoint): void {
    this.restoreServerState(checkpoint);
    this.global = decodeModel(checkpoint.model).global;
    this.version = checkpoint.version;
    this.modelBytes = checkpoint.model;
    this.downloadBytes = null;
  }

  /**
   * Replicas: catch up with the database (another replica may have opened or closed a round).
   * Only moves forward, and offers round r only together with the model of version r − 1.
   */
  private async sync(): Promise<void> {
    this.registered = Math.max(this.registered, await this.store.clientCount());
    if (!this.store.shared) return;
    const version = await this.store.checkpointVersion();
    if (version !== null && version > this.version) {
      const checkpoint = await this.store.latestCheckpoint();
      if (checkpoint && checkpoint.version > this.version) {
        this.loadCheckpoint(checkpoint);
        this.open = null;
        this.received = new Set();
        this.roundCount = 0;
        this.metrics.roundsCompleted.inc();
        this.log.info({ version: this.version }, 'checkpoint loaded (closed by another replica)');
      }
    }
    const open = await this.store.openRound();
    if (open && open.round === this.version + 1) {
      if (this.open?.round !== open.round) this.received = new Set();
      this.open = open;
      this.roundCount = Math.max(this.received.size, await this.store.updateCount(open.round));
    } else if (this.open && (!open || open.round > this.open.round)) {
      this.open = null; // closed elsewhere; its checkpoint is loaded on a later sync
      this.received = new Set();
      this.roundCount = 0;
    }
    this.metrics.currentRound.set(this.open?.round ?? 0);
    this.metrics.roundUpdates.set(this.roundCount);
  }

  /** Replicas: sync unless the last sync ended less than `maxAgeMs` ago; concurrent callers share one. */
  private refresh(maxAgeMs: number): Promise<void> {
    if (this.syncing) return this.syncing;
    if (Date.now() - this.syncedAt < maxAgeMs) return Promise.resolve();
    this.syncing = this.sync().finally(() => {
      this.syncing = null;
      this.syncedAt = Date.now();
    });
    return this.syncing;
  }

  /** Queue coordinator work behind the work already queued; a failure is logged, the server keeps serving. */
  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (err) {
        this.log.error({ err }, 'coordinator tick failed');
      }
    });
    this.queue = run;
    return run;
  }

  get totalRounds(): number {
    return this.config.training.rounds;
  }

  get done(): boolean {
    return this.version >= this.totalRounds || this.budgetExhausted;
  }

  start(): void {
    if (this.timer) return;
    let ticking = false;
    this.timer = setInterval(() => {
      if (ticking) return; // a slow tick (a fold, a slow database) is not stacked
      ticking = true;
      void this.tick().finally(() => (ticking = false));
    }, this.config.coordinator.tickMs);
    this.timer.unref();
  }

  /** Stop the timer and wait for the work in progress (a fold being committed) to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue;
  }

  /** Periodic work: notice new registrations (and, for replicas, the others' rounds), open rounds, close complete rounds, enforce deadlines. */
  tick(): Promise<void> {
    return this.serial(async () => {
      await this.refresh(0);
      await this.maybeOpen();
      await this.maybeClose();
    });
  }

  /**
   * The client of a token. Asked of the store at every request (an indexed lookup, never cached): a
   * token revoked or expired by another process (`fedrec token revoke`, another replica) is refused
   * at its next request.
   */
  async authenticate(tokenHash: string): Promise<ClientRecord | null> {
    const client = await this.store.clientByTokenHash(tokenHash);
    if (client && client.id >= this.registered) this.registered = client.id + 1;
    return client;
  }

  status(): CoordinatorStatus {
    return {
      completedRounds: this.version,
      totalRounds: this.totalRounds,
      openRound: this.open?.round ?? null,
      updatesInRound: this.roundCount,
      registeredClients: this.registered,
      done: this.done,
      secure: this.secure !== null,
    };
  }

  /** The plan of `round` (every client of a round asks for it: built once per round). */
  plan(round: number): RoundPlan & Record<string, unknown> {
    if (this.planned?.round !== round) this.planned = { round, plan: this.makePlan(round) };
    return this.planned.plan;
  }

  private makePlan(round: number): RoundPlan & Record<string, unknown> {
    const t = this.config.training;
    const open = this.open;
    return {
      ...this.planExtras,
      ...(this.secure && open?.round === round ? { secure: this.secure.planField(open) } : {}),
      round,
      model: this.planModel,
      loss: t.feedback === 'explicit' ? 'mse' : t.loss,
      localEpochs: t.localEpochs,
      batch: effectiveBatch(t),
      negatives: t.negatives,
      optimizer: { kind: t.optimizer, lr: effectiveLr(t), weightDecay: t.l2 },
      recency: recencyOf(t),
      seed: hashRoundSeed(t.seed, round),
      ...(this.dp?.clientPlan() ? { dp: this.dp.clientPlan() } : {}),
    };
  }

  async roundInfo(client: ClientRecord): Promise<RoundInfo> {
    // a replica reads the round from the database (another replica may have closed or opened one), at most every 50 ms
    if (this.store.shared && !this.done) await this.refresh(50);
    const retryAfterMs = this.config.coordinator.retryAfterMs;
    const nItems = this.catalogue.nItems;
    if (this.done) {
      return { status: 'done', clientId: client.id, round: this.version, algorithm: this.clientWork, nItems, plan: this.plan(this.version) };
    }
    const open = this.open;
    if (!open) {
      const reason = `waiting for clients: ${this.registered} registered, quorum ${this.config.coordinator.minClients}`;
      return { status: 'wait', clientId: client.id, round: this.version, reason, retryAfterMs };
    }
    if (open.selected && !open.selected.includes(client.id)) {
      return { status: 'wait', clientId: client.id, round: open.round, reason: `not selected for round ${open.round}`, retryAfterMs };
    }
    if (this.received.has(client.id)) {
      return { status: 'wait', clientId: client.id, round: open.round, reason: `update received; round ${open.round} has not closed yet`, retryAfterMs };
    }
    if (this.secure) {
      await this.secure.prepare(open, this.registered);
      if (this.open !== open) return this.roundInfo(client); // the round moved on meanwhile
    }
    if (this.secure?.joined(open, client.id)) {
      return { status: 'wait', clientId: client.id, round: open.round, reason: `secure aggregation of round ${open.round} in progress (GET /v1/secagg)`, retryAfterMs };
    }
    return {
      status: 'train',
      clientId: client.id,
      round: open.round,
      modelVersion: this.version,
      algorithm: this.clientWork,
      nItems,
      plan: this.plan(open.round),
      deadlineAt: open.deadlineAt,
    };
  }

  /**
   * The model download gzip-compressed, when that saves at least 5 % (measured on ML-100K: 8–13 %
   * for float32, f16 and 8-bit iALS item factors, 4–8 % for MF's; docs/ials.md), else null.
   * Compressed once per model version; every client of the round gets the same bytes.
   */
  modelGzip(): { version: number; bytes: Uint8Array } | null {
    const { version, bytes } = this.model();
    if (this.gzipCache?.source !== bytes) {
      const gz = gzipSync(bytes, { level: 6 });
      this.gzipCache = { source: bytes, bytes: gz.length <= 0.95 * bytes.length ? new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength) : null };
    }
    return this.gzipCache.bytes ? { version, bytes: this.gzipCache.bytes } : null;
  }

  /** The current global model as a wire message (version = completed rounds). */
  model(): { version: number; bytes: Uint8Array } {
    const precision = this.config.training.download;
    if (precision === 'f32') return { version: this.version, bytes: this.modelBytes };
    this.downloadBytes ??= encodeModel(this.global, this.version, this.names, { precision, info: this.info });
    return { version: this.version, bytes: this.downloadBytes };
  }

  async submit(client: ClientRecord, body: Uint8Array): Promise<UpdateAck> {
    const reject = (status: number, reason: string, message: string): never => {
      this.metrics.updatesRejected.inc({ reason });
      throw new HttpError(status, reason, message);
    };
    if (this.secure) return reject(409, 'secure-round', 'this coordinator runs secure aggregation: updates arrive masked through /v1/secagg, never in the clear');
    let update;
    try {
      // views into the request body, which nothing else writes: kept until the round closes
      update = decodeUpdate(body, this.limits, true);
    } catch (err) {
      if (err instanceof WireError) return reject(400, 'malformed', `malformed update: ${err.message}`);
      throw err;
    }
    // a replica behind the database (the client heard of the round elsewhere) catches up before refusing
    if (this.store.shared && update.round !== this.open?.round) {
      await this.refresh(0);
      if (update.round > this.version + 1 || (update.round === this.version + 1 && !this.open)) {
        // the client is ahead of this replica's view: a transient state, so a retryable answer (the client's retry may go to another replica)
        throw new HttpError(503, 'replica-behind', `update for round ${update.round}: this replica has not seen that round yet; retry`);
      }
    }
    const open = this.open;
    if (!open) {
      const why = this.done ? `training finished after ${this.version} rounds` : 'no round is open';
      return reject(409, 'round-closed', `update for round ${update.round} refused: ${why}`);
    }
    if (update.round !== open.round) {
      return reject(409, 'round-closed', `update for round ${update.round} refused: the open round is ${open.round}`);
    }
    if (open.selected && !open.selected.includes(client.id)) {
      return reject(403, 'not-selected', `client ${client.id} is not a participant of round ${open.round}`);
    }
    if (this.received.has(client.id)) {
      return reject(409, 'duplicate', `client ${client.id} already sent its update for round ${open.round}`);
    }
    let checked;
    try {
      checked = validateUpdate(update, this.info, {
        nItems: this.catalogue.nItems,
        maxWeight: this.config.coordinator.maxWeight,
        normBound: this.config.coordinator.normBound,
        normMode: this.config.coordinator.normMode,
        localTables: this.localNames,
      });
    } catch (err) {
      if (err instanceof InvalidUpdate) return reject(422, err.reason, `invalid update: ${err.message}`);
      throw err;
    }
    try {
      this.admit(checked.update, client.id); // the strategy's own checks (folded again from the store at close)
    } catch (err) {
      if (err instanceof InvalidUpdate) return reject(422, err.reason, `invalid update: ${err.message}`);
      throw err;
    }
    const stored = checked.clipped ? encodeUpdate(checked.update) : body;
    const added = await this.store.addUpdate(open.round, client.id, stored);
    if (added === 'duplicate') return reject(409, 'duplicate', `client ${client.id} already sent its update for round ${open.round}`);
    if (added === 'round-not-open') return reject(409, 'round-closed', `round ${open.round} closed before the update was stored`);
    if (this.open?.round === open.round && !this.received.has(client.id)) {
      this.received.add(client.id);
      this.roundCount++;
    }
    this.metrics.updatesAccepted.inc();
    this.metrics.bytesReceived.inc(body.length);
    this.metrics.roundUpdates.set(this.roundCount);
    if (checked.clipped) this.metrics.updatesClipped.inc();
    const ack: UpdateAck = { accepted: true, round: open.round, clipped: checked.clipped, updatesInRound: this.roundCount };
    // The update is durable: answer first, aggregate right after (off this request's latency).
    this.scheduleClose();
    return ack;
  }

  /** The strategy's own checks and mapping of a client's update (StrategyEntry.admit); most strategies take it as it is. */
  private admit(update: GlobalUpdate, clientId: number): GlobalUpdate {
    return this.entry.admit ? this.entry.admit(update, clientId, { info: this.info, nItems: this.catalogue.nItems, training: this.config.training }) : update;
  }

  /**
   * What client `client` receives besides the global model (GET /v1/personal): graph aggregation's
   * personal rows of its users after the current version; 404 for a strategy that personalises nothing.
   */
  personal(client: ClientRecord): { version: number; bytes: Uint8Array } {
    if (!isPersonalising(this.strategy)) throw new HttpError(404, 'not-personal', `algorithm '${this.config.training.algorithm}' sends no personal tables: GET /v1/model is the whole download`);
    return { version: this.version, bytes: this.strategy.personalMessage(client.id, this.version) };
  }

  /** Try to close the round once the current request has been answered (one check queued at a time: the updates that arrive meanwhile are counted by it). */
  private scheduleClose(): void {
    if (this.closeScheduled) return;
    this.closeScheduled = true;
    setImmediate(() => {
      void this.serial(async () => {
        this.closeScheduled = false;
        if (this.store.shared && this.open && !this.secure) this.roundCount = Math.max(this.roundCount, await this.store.updateCount(this.open.round));
        await this.maybeClose();
      });
    });
  }

  private async maybeOpen(): Promise<void> {
    if (this.open || this.done) return;
    const { minClients, clientsPerRound, roundDeadlineSeconds } = this.config.coordinator;
    if (this.registered < minClients) return;
    const round = this.version + 1;
    const seed = this.config.training.seed;
    if (this.dp && this.overBudget(round)) return;
    this.population = this.registered;
    const selected = this.dp
      ? Array.from(poissonSample(this.registered, this.dp.settings.samplingRate, seed, round))
      : clientsPerRound === undefined ? null : Array.from(sampleClients(this.registered, clientsPerRound, seed, round));
    const now = Date.now();
    const record: RoundRecord = { round, seed: hashRoundSeed(seed, round), selected, openedAt: now, deadlineAt: now + roundDeadlineSeconds * 1000 };
    if (!(await this.store.insertRound(record))) {
      if (!this.store.shared) throw new Error(`store is inconsistent: round ${round} exists or another round is open`);
      await this.refresh(0); // another replica opened it
      return;
    }
    this.open = record;
    this.received = new Set();
    this.roundCount = 0;
    this.metrics.currentRound.set(round);
    this.metrics.roundUpdates.set(0);
    await this.secure?.prepare(record, this.registered);
    this.log.info({ round, participants: selected?.length ?? this.registered, deadlineAt: record.deadlineAt }, 'round opened');
  }

  private async maybeClose(): Promise<void> {
    const open = this.open;
    if (!open) return;
    if (this.secure) return this.secure.tick(open, this.registered, Date.now());
    const count = this.roundCount;
    const expected = open.selected ? open.selected.length : this.registered;
    const { minClients, roundDeadlineSeconds } = this.config.coordinator;
    const now = Date.now();
    if (count >= expected && (count > 0 || open.selected?.length === 0)) return this.close(open, count > 0 ? 'every participant answered' : 'no client sampled (the noise alone is applied)');
    if (now < open.deadlineAt) return;
    if (count >= minClients) return this.close(open, `deadline with quorum (${count} of ${expected})`);
    const { maxDeadlineExtensions } = this.config.coordinator;
    if (this.extensions >= maxDeadlineExtensions) return this.abort(open, count);
    const deadlineAt = now + roundDeadlineSeconds * 1000;
    await this.store.extendDeadline(open.round, deadlineAt);
    this.open = { ...open, deadlineAt };
    this.extensions++;
    this.metrics.deadlineExtensions.set(this.extensions);
    this.log.warn(
      { round: open.round, updates: count, minClients, extension: this.extensions, maxDeadlineExtensions, deadlineAt },
      `deadline passed without quorum (${count} of ${minClients} updates): deadline extended (${this.extensions} of ${maxDeadlineExtensions})`,
    );
  }

  /**
   * A round still short of its quorum after `maxDeadlineExtensions` extensions is aborted: closed
   * without aggregation (the model and server state of before it are checkpointed as its version,
   * its updates dropped), in the same transaction as any close; the next round opens as usual.
   */
  private async abort(open: RoundRecord, count: number): Promise<void> {
    if (!(await this.closeUnchanged(open))) return;
    this.metrics.roundsAborted.inc();
    this.log.error(
      { round: open.round, updates: count, minClients: this.config.coordinator.minClients },
      `round ${open.round} aborted: no quorum after ${this.config.coordinator.maxDeadlineExtensions} deadline extensions; the model is unchanged`,
    );
    await this.maybeOpen();
  }

  /** ε spent by `rounds` rounds under the configured DP (RDP accountant), or null without DP. */
  epsilonAfter(rounds: number): number | null {
    if (!this.dp) return null;
    const s = this.dp.settings;
    return epsilonOf({ samplingRate: s.samplingRate, noiseMultiplier: accountedNoiseMultiplier(s), rounds, delta: s.delta }).epsilon;
  }

  /** The privacy spent so far (completed rounds), or null without DP. */
  privacy(): ReturnType<DpAggregator['report']> | null {
    return this.dp ? this.dp.report(this.version) : null;
  }

  private reportPrivacy(): void {
    if (!this.dp) return;
    this.metrics.dpEpsilon.set(this.epsilonAfter(this.version) as number);
    this.metrics.dpClipNorm.set(this.dp.clipNorm);
  }

  /** True (and training ends, with one log line) when opening `round` would spend more than the ε budget. */
  private overBudget(round: number): boolean {
    const budget = this.config.coordinator.dpEpsilonBudget;
    if (budget === undefined) return false;
    const eps = this.epsilonAfter(round) as number;
    if (eps <= budget) return false;
    this.budgetExhausted = true;
    const spent = this.epsilonAfter(round - 1) as number;
    this.log.warn(
      { round, epsilon: eps, spent, budget, delta: this.dp?.settings.delta },
      `DP budget: round ${round} not opened: it would bring ε to ${eps.toFixed(4)} (δ ${this.dp?.settings.delta}), over the budget ${budget}; training ends after ${round - 1} rounds at ε ${spent.toFixed(4)}`,
    );
    return true;
  }

  /** The strategy's server state (server optimiser) as a wire state message; null when it keeps none. */
  private encodedServerState(): Uint8Array | null {
    const state = this.strategy.serverState?.();
    return state ? encodeState(state) : null;
  }

  /** Hand the checkpoint's server state back to the strategy, so the next round continues it exactly. */
  private restoreServerState(checkpoint: Checkpoint): void {
    const { name } = this.strategy;
    if (checkpoint.serverState === null) {
      if (this.strategy.serverState) {
        throw new Error(`store is inconsistent: checkpoint ${checkpoint.version} has no server state, but strategy '${name}' keeps one (its server optimiser)`);
      }
      return;
    }
    if (!this.strategy.restoreServerState) {
      throw new Error(`store is inconsistent: checkpoint ${checkpoint.version} holds a server state, but strategy '${name}' keeps none`);
    }
    try {
      this.strategy.restoreServerState(decodeState(checkpoint.serverState, { maxBytes: Number.MAX_SAFE_INTEGER, maxHeaderBytes: 1 << 20 }));
    } catch (err) {
      throw new ConfigError(
        `checkpoint ${checkpoint.version}: cannot restore the server optimiser state (${(err as Error).message}); ` +
          'was the database created with another training.serverOptimizer or serverMomentum? Use the original config or a fresh --db',
      );
    }
  }

  /** Bytes of a masked vector (the body limit of POST /v1/secagg/masked). */
  secureVectorBytes(): number {
    return (this.strategy as SecureSum).currentEncoding ? vectorLength((this.strategy as SecureSum).currentEncoding) * 4 : 0;
  }

  /** What client `client` must do next in the open secure round (GET /v1/secagg). */
  async secureView(client: ClientRecord): Promise<ViewBody> {
    if (!this.secure) throw new HttpError(404, 'not-secure', 'this coordinator does not run secure aggregation');
    return this.secure.view(this.open, this.registered, client.id, this.version);
  }

  /** One secure-aggregation message (POST /v1/secagg/:phase); the phase may close right after. */
  async secureSubmit(client: ClientRecord, phase: SecAggPhase, body: Uint8Array, round: number | null): Promise<{ accepted: true; round: number; phase: SecAggPhase }> {
    if (!this.secure) throw new HttpError(404, 'not-secure', 'this coordinator does not run secure aggregation');
    const ack = await this.secure.receive(this.open, this.registered, client.id, phase, body, round);
    if (phase === 'masked') this.metrics.bytesReceived.inc(body.length);
    this.scheduleClose();
    return ack;
  }

  private async closeSecure(open: RoundRecord, sum: Uint32Array, encoding: Encoding, contributors: readonly number[]): Promise<void> {
    if (this.open?.round !== open.round) return;
    await this.store.setMeta(`secure-round/${open.round}`, JSON.stringify({ outcome: 'aggregated', contributors: contributors.length, participants: encoding.participants, contributorIds: [...contributors] }));
    await this.close(open, `secure aggregation of ${contributors.length} clients`, (strategy) => {
      const secureSum = strategy as SecureSum;
      secureSum.setParticipants(encoding.participants);
      secureSum.acceptSum(sum);
    });
    this.secure?.recordOutcome('aggregated');
  }

  /** Fewer than t clients left: close the round with the model (and server state) unchanged. */
  private async abortSecure(open: RoundRecord, reason: string): Promise<void> {
    if (this.open?.round !== open.round) return;
    await this.store.setMeta(`secure-round/${open.round}`, JSON.stringify({ outcome: 'aborted', reason }));
    if (!(await this.closeUnchanged(open))) return;
    this.metrics.roundsCompleted.inc();
    this.secure?.recordOutcome('aborted');
    this.log.warn({ round: open.round, reason }, 'secure round aborted: model unchanged, next round');
    await this.maybeOpen();
  }

  /**
   * Close `open` without aggregation: the model and server state of before it are checkpointed as
   * its version and its updates dropped, in the store's close transaction (one closer per round).
   * False when another replica closed it (this one has synced).
   */
  private async closeUnchanged(open: RoundRecord): Promise<boolean> {
    const bytes = encodeModel(this.global, open.round, this.names);
    const closed = { round: open.round, clients: 0, loss: 0, closedAt: Date.now() };
    const result = await this.store.closeRound(open.round, () => ({ closed, model: bytes, serverState: this.encodedServerState(), next: null }));
    if (result !== 'closed') {
      if (result === 'not-open' && !this.store.shared) throw new Error(`round ${open.round} is not open in the store: cannot close it`);
      await this.sync();
      return false;
    }
    this.version = open.round;
    this.modelBytes = bytes;
    this.downloadBytes = null;
    this.open = null;
    this.received = new Set();
    this.roundCount = 0;
    this.extensions = 0;
    this.metrics.deadlineExtensions.set(0);
    this.metrics.currentRound.set(0);
    this.metrics.roundUpdates.set(0);
    return true;
  }

  private async close(open: RoundRecord, why: string, fold?: (strategy: Strategy) => void): Promise<void> {
    const started = performance.now();
    const next: Record<string, Float32Array> = {};
    // endRound advances the server optimiser in place: if the checkpoint is not written the round
    // stays open and is aggregated again later, from the state of before it
    const before = this.strategy.serverState?.() ?? null;
    let summary: ReturnType<Strategy['endRound']> | undefined;
    let bytes: Uint8Array | undefined;
    let result;
    try {
      result = await this.store.closeRound(open.round, (updates) => {
        for (const [name, t] of Object.entries(this.global)) next[name] = t.slice();
        // the simulation's fold step (simulation/round-engine.ts), fed from the store
        summary = foldRoundSync(this.strategy, open.round, next, (strategy) => {
          if (fold) fold(strategy);
          // stored updates in client-id order: the fixed aggregation order
          else for (const u of updates) strategy.accept(this.admit(decodeUpdate(u.body, this.limits) as GlobalUpdate, u.clientId));
        });
        bytes = encodeModel(next, open.round, this.names);
        const closed = { round: open.round, clients: summary.clients, loss: summary.loss, closedAt: Date.now() };
        return { closed, model: bytes, serverState: this.encodedServerState(), next: null };
      });
    } catch (err) {
      if (before) this.strategy.restoreServerState?.(before);
      throw err;
    }
    if (result !== 'closed' || !summary || !bytes) {
      if (before) this.strategy.restoreServerState?.(before);
      if (result === 'not-open' && !this.store.shared) throw new Error(`round ${open.round} is not open in the store: cannot close it`);
      this.log.info({ round: open.round, result }, 'round closed by another replica');
      await this.sync();
      return;
    }
    this.global = next;
    this.version = open.round;
    this.modelBytes = bytes;
    this.downloadBytes = null;
    this.open = null;
    this.received = new Set();
    this.roundCount = 0;
    this.extensions = 0;
    this.metrics.deadlineExtensions.set(0);
    this.metrics.roundsCompleted.inc();
    this.metrics.currentRound.set(0);
    this.metrics.roundUpdates.set(0);
    this.metrics.aggregationSeconds.observe((performance.now() - started) / 1000);
    this.reportPrivacy();
    if (summary.refused) {
      this.metrics.foldsRefused.inc();
      this.log.error({ round: open.round, clients: summary.clients, reason: summary.refused }, 'round aggregate refused: the model and server optimiser state are kept as they were');
    }
    this.log.info({ round: open.round, clients: summary.clients, loss: summary.loss, why }, 'round closed and checkpointed');
    await this.maybeOpen();
  }
}
