/**
 * FedAvg (McMahan et al., AISTATS 2017) server strategy for recommendation.
 * Round:
 *  1. the runtime samples clients and sends each the global tables with a RoundPlan;
 *  2. every returned update is bounded (federated/bounds.ts: the server decides its weight, its
 *     L2 norm is clipped) and folded into a weighted running sum;
 *  3. at the end, item rows are averaged over the clients that touched them (or all clients),
 *     dense layers over all clients, and a server optimiser applies the average (SGD, lr = server
 *     lr; momentum gives FedAvgM; Adam gives FedAdam).
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';
import type { OptimizerConfig, OptimizerState } from '../optim/types.js';
import { ServerUpdater, UpdateAccumulator, type PartialAggregate, type RowAveraging } from './aggregate.js';
import { AdaptiveNormBound, restoreServerStateWithBound, serverStateWithBound } from './adaptive-clip.js';
import { type ClientWeighting, type InfluenceBounds } from './bounds.js';
import type { GlobalUpdate, RoundSummary, Strategy } from './types.js';

export type { ClientWeighting } from './bounds.js';

export interface FedAvgOptions {
  readonly serverOptimizer: OptimizerConfig;
  readonly rowAveraging: RowAveraging;
  /** Default 'examples'. */
  readonly clientWeighting?: ClientWeighting;
  /** L2 bound each update is clipped to before it is folded; 0 or absent: none. */
  readonly clipNorm?: number;
  /** Largest weight under 'examples'; absent: none. */
  readonly weightCap?: number;
  /**
   * Adaptive clip (federated/adaptive-clip.ts): each round's bound is this multiple of the previous
   * round's median update norm, capped by `clipNorm`; 0 or absent: the fixed `clipNorm` only.
   */
  readonly adaptiveClip?: number;
  /** Row bounds relative to the L2 bound (federated/row-bound.ts); absent: none. */
  readonly rowShare?: number;
  readonly rowSpread?: number;
  /** Centre the averaged item-row update before the server step (federated/center-items.ts; MF only). */
  readonly centerItems?: boolean;
}

export class FedAvg implements Strategy {
  readonly name: string = 'fedavg';
  private readonly acc: UpdateAccumulator;
  private readonly updater: ServerUpdater;
  private readonly globalNames: ReadonlySet<string>;
  private readonly clip: AdaptiveNormBound;
  private round = 0;

  constructor(info: readonly ParamInfo[], nItems: number, private readonly options: FedAvgOptions) {
    this.clip = new AdaptiveNormBound(options.clipNorm ?? 0, options.adaptiveClip ?? 0);
    this.acc = new UpdateAccumulator(info, nItems);
    this.updater = new ServerUpdater(options.serverOptimizer, info, options.rowAveraging, centeredTables(info, options));
    this.globalNames = new Set(info.filter((p) => p.scope === 'global').map((p) => p.name));
  }

  beginRound(round: number): void {
    this.round = round;
    this.acc.reset();
    this.clip.beginRound();
  }

  accept(update: GlobalUpdate): void {
    if (update.round !== this.round) throw new Error(`update for round ${update.round} arrived in round ${this.round}`);
    for (const name of [...Object.keys(update.itemTables), ...Object.keys(update.denseTables)]) {
      if (!this.globalNames.has(name)) throw new Error(`update carries table '${name}', which is not a global table`);
    }
    const folded = this.acc.addBounded(update, this.bounds);
    if (folded && folded.weight > 0) this.clip.observe(folded.norm);
  }

  /**
   * How each update of the current round is bounded before it is folded (a worker thread folding
   * updates applies the same; the clip may change from round to round).
   */
  get bounds(): InfluenceBounds {
    return { weighting: this.options.clientWeighting ?? 'examples', clipNorm: this.clip.bound, weightCap: this.options.weightCap, rowShare: this.options.rowShare, spread: this.options.rowSpread };
  }

  /**
   * Fold in the partial sums of several updates (folded elsewhere, e.g. in a worker thread), with
   * the unclipped norms of those of positive weight (for the adaptive clip).
   */
  acceptPartial(partial: PartialAggregate, norms: readonly number[] = []): void {
    this.acc.merge(partial);
    this.clip.observeAll(norms);
  }

  endRound(global: GlobalParams): RoundSummary {
    const summary = { round: this.round, clients: this.acc.count, loss: this.acc.meanLoss };
    const refused = this.updater.apply(global, this.acc);
    this.clip.endRound();
    return refused ? { ...summary, refused } : summary;
  }

  serverState(): OptimizerState {
    return serverStateWithBound(this.updater, this.clip);
  }

  restoreServerState(state: OptimizerState): void {
    restoreServerStateWithBound(this.updater, this.clip, state);
  }
}

/** The item tables a strategy centres (all global item tables when `centerItems` is on). */
export function centeredTables(info: readonly ParamInfo[], options: FedAvgOptions): string[] {
  return options.centerItems ? info.filter((p) => p.scope === 'global' && p.index === 'item').map((p) => p.name) : [];
}
