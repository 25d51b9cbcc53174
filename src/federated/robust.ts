/**
 * Byzantine-robust aggregation rules as server strategies (FedAvg's round, another statistic):
 *  - 'median': coordinate-wise median (Yin et al., "Byzantine-Robust Distributed Learning:
 *    Towards Optimal Statistical Rates", ICML 2018);
 *  - 'trimmed-mean': coordinate-wise β-trimmed mean, the ⌊βn⌋ largest and smallest values of each
 *    coordinate dropped (Yin et al. 2018);
 *  - 'norm-bounded': every update clipped to the round's median update norm, then the mean (norm
 *    bounding, Sun et al. 2019 "Can you really backdoor federated learning?", with the bound set
 *    from the round instead of a constant).
 * Item rows are aggregated over the clients that touched them ('touched') or over every client of
 * the round with zeros for the others ('all'), as FedAvg does; dense tables over every client.
 * These statistics need every update of the round at once: the strategy keeps the round's
 * (bounded) updates in memory until `endRound`. Updates of weight 0 carry nothing and are skipped;
 * the other weights are ignored (each update counts once). The aggregate goes through the same
 * guarded server optimiser as FedAvg's mean.
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';
import type { OptimizerState } from '../optim/types.js';
import { ServerUpdater, UpdateAccumulator } from './aggregate.js';
import { AdaptiveNormBound, restoreServerStateWithBound, serverStateWithBound } from './adaptive-clip.js';
import { boundUpdate, clipUpdate, updateNorm } from './bounds.js';
import { centeredTables, FedAvg, type FedAvgOptions } from './fedavg.js';
import type { GlobalUpdate, RoundSummary, Strategy } from './types.js';

export type RobustRule = 'median' | 'trimmed-mean' | 'norm-bounded';
export type AggregationRule = 'mean' | RobustRule;

export interface RobustOptions extends FedAvgOptions {
  readonly rule: RobustRule;
  /** Fraction trimmed from each end by 'trimmed-mean' (default 0.1). */
  readonly trimFraction?: number;
}

export class RobustAggregation implements Strategy {
  readonly name: string;
  private readonly acc: UpdateAccumulator;
  private readonly updater: ServerUpdater;
  private readonly globals: readonly ParamInfo[];
  private readonly clip: AdaptiveNormBound;
  private round = 0;
  private updates: GlobalUpdate[] = [];
  private lossSum = 0;
  private clients = 0;

  constructor(info: readonly ParamInfo[], private readonly nItems: number, private readonly options: RobustOptions, name = 'fedavg') {
    this.name = `${name}/${options.rule}`;
    this.acc = new UpdateAccumulator(info, nItems);
    this.updater = new ServerUpdater(options.serverOptimizer, info, options.rowAveraging, centeredTables(info, options));
    this.globals = info.filter((p) => p.scope === 'global');
    this.clip = new AdaptiveNormBound(options.clipNorm ?? 0, options.adaptiveClip ?? 0);
  }

  beginRound(round: number): void {
    this.round = round;
    this.updates = [];
    this.lossSum = 0;
    this.clients = 0;
    this.clip.beginRound();
  }

  accept(update: GlobalUpdate): void {
    if (update.round !== this.round) throw new Error(`update for round ${update.round} arrived in round ${this.round}`);
    const names = new Set(this.globals.map((p) => p.name));
    for (const name of [...Object.keys(update.itemTables), ...Object.keys(update.denseTables)]) {
      if (!names.has(name)) throw new Error(`update carries table '${name}', which is not a global table`);
    }
    const bounded = boundUpdate(update, { weighting: this.options.clientWeighting ?? 'examples', clipNorm: this.clip.bound, weightCap: this.options.weightCap, rowShare: this.options.rowShare, spread: this.options.rowSpread });
    this.clients++;
    if (!bounded) return;
    this.lossSum += bounded.loss;
    if (bounded.weight > 0) {
      this.clip.observe(updateNorm(update));
      this.updates.push(bounded);
    }
  }

  endRound(global: GlobalParams): RoundSummary {
    const summary = { round: this.round, clients: this.clients, loss: this.clients > 0 ? this.lossSum / this.clients : 0 };
    this.acc.reset();
    if (this.updates.length > 0) this.acc.add(this.aggregate());
    this.updates = [];
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

  /** The round's robust aggregate as one update of weight 1 over every touched row. */
  private aggregate(): GlobalUpdate {
    let updates = this.updates;
    if (this.options.rule === 'norm-bounded') {
      const norms = updates.map((u) => updateNorm(u)).sort((a, b) => a - b);
      const bound = norms[(norms.length - 1) >> 1];
      updates = updates.map((u) => clipUpdate(u, bound).update);
    }
    const stat = statistic(this.options.rule, this.options.trimFraction ?? 0.1);
    const all = this.options.rowAveraging === 'all';
    const n = updates.length;
    // which update holds which row, at which position
    const holders: number[][] = Array.from({ length: this.nItems }, () => []);
    const positions: number[][] = Array.from({ length: this.nItems }, () => []);
    updates.forEach((u, c) => u.rows.forEach((r, k) => (holders[r].push(c), positions[r].push(k))));
    const rows: number[] = [];
    for (let r = 0; r < this.nItems; r++) if (holders[r].length > 0) rows.push(r);
    const itemTables: Record<string, Float32Array> = {};
    const denseTables: Record<string, Float32Array> = {};
    const buf = new Float64Array(n);
    for (const p of this.globals) {
      const cols = p.cols;
      if (p.index === 'item') {
        const out = new Float32Array(rows.length * cols);
        rows.forEach((r, i) => {
          const hs = holders[r];
          const ps = positions[r];
          const m = all ? n : hs.length;
          for (let f = 0; f < cols; f++) {
            if (all) buf.fill(0, 0, n);
            for (let j = 0; j < hs.length; j++) buf[j] = updates[hs[j]].itemTables[p.name][ps[j] * cols + f];
            out[i * cols + f] = stat(buf.subarray(0, m));
          }
        });
        itemTables[p.name] = out;
      } else {
        const size = p.rows * cols;
        const out = new Float32Array(size);
        for (let k = 0; k < size; k++) {
          for (let j = 0; j < n; j++) buf[j] = updates[j].denseTables[p.name][k];
          out[k] = stat(buf.subarray(0, n));
        }
        denseTables[p.name] = out;
      }
    }
    return { round: this.round, weight: 1, rows: Int32Array.from(rows), itemTables, denseTables, loss: 0 };
  }
}

/** The per-coordinate statistic of a rule, over a scratch array it may reorder. */
function statistic(rule: RobustRule, trim: number): (values: Float64Array) => number {
  if (rule === 'norm-bounded') return mean;
  if (rule === 'median') {
    return (v) => {
      v.sort();
      const m = v.length >> 1;
      return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    };
  }
  return (v) => {
    const k = Math.floor(trim * v.length);
    if (k === 0) return mean(v);
    v.sort();
    return mean(v.subarray(k, v.length - k));
  };
}

function mean(v: Float64Array): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k];
  return v.length > 0 ? s / v.length : 0;
}

/** The server strategy of a rule: FedAvg's streaming mean (`makeMean`) or a robust rule. */
export function strategyForRule(
  rule: AggregationRule,
  info: readonly ParamInfo[],
  nItems: number,
  options: FedAvgOptions & { readonly trimFraction?: number },
  makeMean: () => FedAvg = () => new FedAvg(info, nItems, options),
  name = 'fedavg',
): Strategy {
  return rule === 'mean' ? makeMean() : new RobustAggregation(info, nItems, { ...options, rule }, name);
}
