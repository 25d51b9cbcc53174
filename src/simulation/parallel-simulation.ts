/**
 * The federated simulation spread over worker threads (one per core by default), for a registered
 * algorithm whose server sums updates (FedAvg and its variants: src/algorithms/registry.ts, the
 * `workers` capability). Clients are dealt to workers by id (client c to worker c mod W); each
 * worker keeps its clients' data and state, runs the algorithm's client work on the global tables
 * it reads from shared memory (written by the server only between rounds), and returns the partial
 * sums of its clients' updates. Sums are exact in float64, so the result does not depend on the
 * number of workers. The rounds are the round engine's (round-engine.ts); this is its executor.
 */
import { Worker } from 'node:worker_threads';
import type { ImplicitSplit } from '../data/types.js';
import type { GlobalParams, LocalParams, ParamInfo } from '../models/types.js';
import type { PartialAggregate } from '../federated/aggregate.js';
import type { FedAvg } from '../federated/fedavg.js';
import { globalBytes } from '../federated/bytes.js';
import { sampleClients } from '../federated/partition.js';
import { assembleLocalTables, roundPlanOf, type SimulationOptions } from './simulation.js';
import { runRounds, type ClientExecutor, type RoundTask, type RoundTraffic } from './round-engine.js';
import type { RoundPlan } from '../federated/types.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from '../report/history.js';
import type { LocalShare, WorkerRequest } from './simulation-worker.js';

export interface ParallelOptions extends SimulationOptions {
  readonly workers: number;
  readonly usersPerClient: number;
}

/** Copy tables into SharedArrayBuffer-backed arrays the workers can read without copying. */
export function shareGlobal(global: GlobalParams): { global: GlobalParams; buffers: Record<string, SharedArrayBuffer> } {
  const buffers: Record<string, SharedArrayBuffer> = {};
  const shared: Record<string, Float32Array> = {};
  for (const [name, table] of Object.entries(global)) {
    buffers[name] = new SharedArrayBuffer(table.byteLength);
    shared[name] = new Float32Array(buffers[name]);
    shared[name].set(table);
  }
  return { global: shared, buffers };
}

class WorkerHandle {
  private readonly worker: Worker;
  private pending: ((msg: any) => void) | null = null;
  private failure: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL('./simulation-worker.js', import.meta.url));
    this.worker.on('message', (msg) => {
      const resolve = this.pending;
      this.pending = null;
      resolve?.(msg);
    });
    this.worker.on('error', (err) => {
      this.failure = err;
      const resolve = this.pending;
      this.pending = null;
      resolve?.({ type: 'error' });
    });
  }

  async request<T>(msg: WorkerRequest): Promise<T> {
    if (this.failure) throw this.failure;
    const reply = new Promise<any>((resolve) => (this.pending = resolve));
    this.worker.postMessage(msg);
    const result = await reply;
    if (this.failure) throw this.failure;
    return result as T;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The round engine's executor over worker threads: each worker sends its clients' partial sum. */
export class ParallelSimulation implements ClientExecutor<RoundPlan, FedAvg> {
  readonly history: HistoryEntry[] = [];
  private readonly workers: WorkerHandle[];
  private clientCount = 0;
  private shares: LocalShare[] = [];

  constructor(
    private readonly split: ImplicitSplit,
    readonly global: GlobalParams,
    private readonly buffers: Record<string, SharedArrayBuffer>,
    private readonly info: readonly ParamInfo[],
    /** The registered algorithm whose client work the workers run. */
    private readonly algorithm: string,
    private readonly strategy: FedAvg,
    private readonly options: ParallelOptions,
  ) {
    this.workers = Array.from({ length: options.workers }, () => new WorkerHandle());
  }

  async run(probe: ValidationProbe, onProgress?: ProgressListener): Promise<HistoryEntry[]> {
    try {
      const ready = await Promise.all(this.workers.map((w) => w.request<{ clients: number }>({
        type: 'init', algorithm: this.algorithm, split: this.split, usersPerClient: this.options.usersPerClient, seed: this.options.seed, info: this.info, shared: this.buffers, bounds: this.strategy.bounds,
      })));
      this.clientCount = ready[0].clients;
      const { rounds, clientsPerRound, evalEvery, seed } = this.options;
      return await runRounds({
        schedule: {
          rounds,
          evalEvery,
          plan: (round) => roundPlanOf(this.options, round),
          select: (round) => sampleClients(this.clientCount, clientsPerRound, seed, round),
        },
        fold: this.strategy,
        global: this.global,
        executor: this,
        probe,
        onProgress,
      }, this.history);
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }

  async runRound({ plan, chosen }: RoundTask<RoundPlan>, fold: FedAvg): Promise<RoundTraffic> {
    const W = this.workers.length;
    const replies = await Promise.all(this.workers.map((w, k) => w.request<{ partial: PartialAggregate; bytesUp: number; norms: number[] }>({
      type: 'round', plan, clientIds: chosen.filter((c) => c % W === k), bounds: fold.bounds,
    })));
    let bytesUp = 0;
    for (const r of replies) {
      fold.acceptPartial(r.partial, r.norms);
      bytesUp += r.bytesUp;
    }
    return { bytesUp, bytesDown: globalBytes(this.global) * chosen.length };
  }

  beforeProbe(): Promise<void> {
    return this.fetchLocals();
  }

  private async fetchLocals(): Promise<void> {
    const replies = await Promise.all(this.workers.map((w) => w.request<{ shares: LocalShare[] }>({ type: 'locals' })));
    this.shares = replies.flatMap((r) => r.shares);
  }

  /** Every user's local tables as of the last evaluated round (fresh for users never trained). */
  assembleLocal(nUsers: number): LocalParams {
    return assembleLocalTables(this.options.plan.model, nUsers, this.options.seed, this.shares);
  }
}
