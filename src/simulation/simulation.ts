/**
 * In-process federated simulation: every client's data and state stay in its own `ClientData` /
 * `ClientState`; the server side only sees `GlobalUpdate`s. The rounds are the round engine's
 * (round-engine.ts); here each sampled client runs its client work on the global tables as the
 * devices decode them (fixed during the round), and the bytes of the download are counted.
 */
import type { GlobalParams, LocalParams, ModelConfig, ParamInfo } from '../models/types.js';
import { downloadBytes, downloadedModel, type DownloadPrecision } from '../wire/quantize.js';
import { initParams } from '../models/params.js';
import { modelParamInfo } from '../models/registry.js';
import { Rng } from '../math/rng.js';
import type { ClientData, ClientResult, ClientState, RoundPlan, Strategy } from '../federated/types.js';
import { globalBytes, updateBytes } from '../federated/bytes.js';
import { freshLocal } from '../federated/compact.js';
import { sampleClients } from '../federated/partition.js';
import { InProcessClients, runRoundsSync } from './round-engine.js';
import type { HistoryEntry, ProgressListener, ValidationProbe } from '../report/history.js';

export interface SimulationOptions {
  readonly rounds: number;
  readonly clientsPerRound: number;
  readonly evalEvery: number;
  readonly seed: number;
  /** Plan fields fixed for every round (the round number and seed are filled in). */
  readonly plan: Omit<RoundPlan, 'round' | 'seed'>;
  /** A quantised model download (wire/quantize.ts): clients get the tables a device would decode. */
  readonly download?: { readonly precision: DownloadPrecision; readonly info: readonly ParamInfo[] };
  /** Who takes part in a round (DP: Poisson sampling); default `clientsPerRound` clients without replacement. */
  readonly select?: (round: number) => Int32Array;
}

/** Runs one client's round; the simulation passes the client's own data and state only. */
export type ClientRunner = (plan: RoundPlan, global: GlobalParams, client: ClientData, state: ClientState | null) => ClientResult;

export function initGlobal(config: ModelConfig, nItems: number, seed: number): GlobalParams {
  const info = modelParamInfo(config, 0, nItems).filter((p) => p.scope === 'global');
  return initParams(info, config.initStd ?? 0.01, Rng.derive(seed, 'init-global')).global;
}

export class FederatedSimulation {
  readonly states: (ClientState | null)[];
  readonly history: HistoryEntry[] = [];
  private readonly executor: InProcessClients<RoundPlan>;

  constructor(
    readonly clients: readonly ClientData[],
    readonly global: GlobalParams,
    private readonly strategy: Strategy,
    runClient: ClientRunner,
    private readonly options: SimulationOptions,
  ) {
    const download = options.download;
    this.executor = new InProcessClients<RoundPlan>(clients, ({ plan }) => {
      const seen = download ? downloadedModel(this.global, download.info, download.precision) : this.global;
      const down = download ? downloadBytes(this.global, download.info, download.precision) : globalBytes(this.global);
      return (c, state) => {
        const result = runClient(plan, seen, this.clients[c], state);
        return { update: result.update, state: result.state, bytesUp: updateBytes(result.update), bytesDown: down };
      };
    });
    this.states = this.executor.states;
  }

  run(probe: ValidationProbe, onProgress?: ProgressListener): HistoryEntry[] {
    const { rounds, clientsPerRound, evalEvery, seed } = this.options;
    return runRoundsSync({
      schedule: {
        rounds,
        evalEvery,
        plan: (round) => roundPlanOf(this.options, round),
        select: (round) => this.options.select?.(round) ?? sampleClients(this.clients.length, clientsPerRound, seed, round),
      },
      fold: this.strategy,
      global: this.global,
      executor: this.executor,
      probe,
      onProgress,
    }, this.history);
  }

  /**
   * Local tables of every user, assembled for evaluation in simulation only (a deployed client
   * scores on its device). Only the first `clients` clients (the data set's; devices outside it
   * are not evaluated).
   */
  assembleLocal(nUsers: number, clients = this.clients.length): LocalParams {
    const shares = this.clients.slice(0, clients).flatMap((client, c) => {
      const state = this.states[c];
      return state ? [{ users: client.users, local: state.local }] : [];
    });
    return assembleLocalTables(this.options.plan.model, nUsers, this.options.seed, shares);
  }
}

/**
 * Every user's local tables from the clients' shares; users whose client never trained get a
 * fresh initialisation.
 */
export function assembleLocalTables(
  config: ModelConfig,
  nUsers: number,
  seed: number,
  shares: readonly { readonly users: Int32Array; readonly local: LocalParams }[],
): LocalParams {
  const full = freshLocal(config, nUsers, Rng.derive(seed, 'init-local-unseen'));
  for (const { users, local } of shares) {
    for (const [name, table] of Object.entries(local)) {
      const width = table.length / users.length;
      users.forEach((u, k) => full[name].set(table.subarray(k * width, (k + 1) * width), u * width));
    }
  }
  return full;
}

/** Round `round`'s plan: the run's fixed plan fields with the round number and its seed. */
export function roundPlanOf(options: Pick<SimulationOptions, 'plan' | 'seed'>, round: number): RoundPlan {
  return { ...options.plan, round, seed: hashRoundSeed(options.seed, round) };
}

/** The seed of round `round` of a run seeded `seed` (the coordinator plans rounds with the same seeds). */
export function hashRoundSeed(seed: number, round: number): number {
  return Rng.derive(seed, 'round', round).nextU32();
}
