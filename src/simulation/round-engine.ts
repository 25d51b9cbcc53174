/**
 * The federated round, written once (FedAvg's round, McMahan et al., AISTATS 2017, Algorithm 1,
 * and every algorithm built on it). Each round:
 *  1. plan the round (the run's fixed plan, the round number and its seed; a recipe may add more,
 *     e.g. NCL's item prototypes);
 *  2. sample the clients (seeded per round; Poisson under DP);
 *  3. run the chosen clients' work through an executor — in process (`InProcessClients`) or in
 *     worker threads (parallel-simulation.ts) — each update folded into the server strategy as it
 *     arrives (streaming);
 *  4. the strategy applies the aggregate (`foldRound`, the step the coordinator's round close
 *     shares);
 *  5. at `evaluatesAt` rounds, the validation probe (the recipe's probe keeps the best-validation
 *     model, simulation/selection.ts).
 * The loop is synchronous with a synchronous executor and returns a promise with an asynchronous
 * one (worker threads), without a second copy of it.
 */
import type { GlobalParams } from '../models/types.js';
import type { ClientData, ClientState, GlobalUpdate, RoundSummary, Strategy } from '../federated/types.js';
import { evaluatesAt } from './selection.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from '../report/history.js';

export type MaybePromise<T> = T | Promise<T>;

/** `next(value)`, after `value` settles when it is a promise; synchronous otherwise. */
export function then<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** One round's work order: its number, its plan and the clients chosen for it. */
export interface RoundTask<P> {
  readonly round: number;
  readonly plan: P;
  readonly chosen: Int32Array;
}

/** Bytes a round moved: client uploads and model downloads, summed over the chosen clients. */
export interface RoundTraffic {
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** Runs the chosen clients' work of a round and folds each update into `fold`. */
export interface ClientExecutor<P, S extends Strategy = Strategy> {
  runRound(task: RoundTask<P>, fold: S): MaybePromise<RoundTraffic>;
  /** Before a validation probe: bring what the probe reads from the clients up to date (worker threads). */
  beforeProbe?(): MaybePromise<void>;
}

/** What varies between recipes: how many rounds, how a round is planned, who takes part. */
export interface RoundSchedule<P> {
  readonly rounds: number;
  readonly evalEvery: number;
  plan(round: number): P;
  select(round: number): Int32Array;
}

export interface RoundLoop<P, S extends Strategy = Strategy> {
  readonly schedule: RoundSchedule<P>;
  /** The server side: folds the round's updates and applies the aggregate to `global`. */
  readonly fold: S;
  readonly global: GlobalParams;
  readonly executor: ClientExecutor<P, S>;
  readonly probe: ValidationProbe;
  readonly onProgress?: ProgressListener;
}

/**
 * One round's fold: begin the round, `feed` the strategy its updates, apply the aggregate to
 * `global`. The simulation feeds updates as clients finish; the coordinator feeds the stored ones.
 */
export function foldRound<S extends Strategy, T>(fold: S, round: number, global: GlobalParams, feed: (fold: S) => MaybePromise<T>): MaybePromise<{ summary: RoundSummary; fed: T }> {
  fold.beginRound(round);
  return then(feed(fold), (fed) => ({ summary: fold.endRound(global), fed }));
}

/** `foldRound` with a synchronous feed: the round's summary. */
export function foldRoundSync<S extends Strategy>(fold: S, round: number, global: GlobalParams, feed: (fold: S) => void): RoundSummary {
  const out = foldRound(fold, round, global, feed);
  if (out instanceof Promise) throw new Error('foldRoundSync: the feed is asynchronous');
  return out.summary;
}

function playRound<P, S extends Strategy>(loop: RoundLoop<P, S>, round: number): MaybePromise<HistoryEntry> {
  const { schedule } = loop;
  const started = performance.now();
  const plan = schedule.plan(round);
  const chosen = schedule.select(round);
  const folded = foldRound(loop.fold, round, loop.global, (fold) => loop.executor.runRound({ round, plan, chosen }, fold));
  return then(folded, ({ summary, fed: traffic }) => {
    const seconds = (performance.now() - started) / 1000;
    const evaluate = evaluatesAt(round, schedule.evalEvery, schedule.rounds);
    return then(evaluate ? loop.executor.beforeProbe?.() : undefined, (): HistoryEntry => ({
      round,
      loss: summary.loss,
      seconds,
      bytesUp: traffic.bytesUp,
      bytesDown: traffic.bytesDown,
      clients: chosen.length,
      validation: evaluate ? loop.probe(round) : {},
    }));
  });
}

/** Every round of `loop`, in order: the history (a promise when the executor is asynchronous). */
export function runRounds<P, S extends Strategy>(loop: RoundLoop<P, S>, history: HistoryEntry[] = []): MaybePromise<HistoryEntry[]> {
  const { rounds } = loop.schedule;
  const record = (entry: HistoryEntry): void => {
    history.push(entry);
    loop.onProgress?.(entry, rounds);
  };
  const from = (first: number): MaybePromise<HistoryEntry[]> => {
    for (let round = first; round <= rounds; round++) {
      const entry = playRound(loop, round);
      if (entry instanceof Promise) return entry.then((e) => { record(e); return from(round + 1); });
      record(entry);
    }
    return history;
  };
  return from(1);
}

/** `runRounds` with a synchronous executor. */
export function runRoundsSync<P, S extends Strategy>(loop: RoundLoop<P, S>, history: HistoryEntry[] = []): HistoryEntry[] {
  const out = runRounds(loop, history);
  if (out instanceof Promise) throw new Error('runRoundsSync: the executor is asynchronous (use runRounds)');
  return out;
}

/** One client's turn in a round run in process: its update, what it keeps, the bytes it moved. */
export interface ClientTurn {
  readonly update: GlobalUpdate;
  readonly state: ClientState | null;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/**
 * The client side of a round run in process: called once per round (to prepare what every chosen
 * client downloads), then once per chosen client with its index and its state.
 */
export type RoundWork<P> = (task: RoundTask<P>) => (client: number, state: ClientState | null) => ClientTurn;

/** In-process executor: each client's state stays in its own slot; updates are folded as they come. */
export class InProcessClients<P> implements ClientExecutor<P> {
  readonly states: (ClientState | null)[];

  constructor(readonly clients: readonly ClientData[], private readonly work: RoundWork<P>) {
    this.states = clients.map(() => null);
  }

  runRound(task: RoundTask<P>, fold: Strategy): RoundTraffic {
    const turn = this.work(task);
    let bytesUp = 0;
    let bytesDown = 0;
    for (const c of task.chosen) {
      const t = turn(c, this.states[c]);
      this.states[c] = t.state;
      bytesUp += t.bytesUp;
      bytesDown += t.bytesDown;
      fold.accept(t.update);
    }
    return { bytesUp, bytesDown };
  }
}
