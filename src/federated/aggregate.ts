/**
 * Streaming weighted averaging of client updates, and applying the average through a server
 * optimiser. Item rows are averaged over the clients that touched them ('touched', the FedMF /
 * FedNCF convention) or over all clients of the round ('all', plain FedAvg with zero deltas for
 * untouched rows). Dense tables are averaged over all clients. Nothing is kept per client.
 */
import { centerItemRows } from './center-items.js';
import { createOptimizer } from '../optim/registry.js';
import type { Optimizer, OptimizerConfig, OptimizerState } from '../optim/types.js';
import type { Grads, GlobalParams, ParamInfo } from '../models/types.js';
import type { GlobalUpdate } from './types.js';
import { allFinite, clipScale, LOSS_BOUND, scaledCopy, serverWeight, sumOfSquares, type InfluenceBounds } from './bounds.js';
import { hasRowBounds, rowBoundScales, rowScaledCopy, rowSquares, type RowScales } from './row-bound.js';
import { RowSums, sumSimdSupported } from '../math/wasm/sum-kernels.js';

export type RowAveraging = 'touched' | 'all';

/** Weighted sums of a set of client updates: what one worker thread hands back to the server. */
export interface PartialAggregate {
  readonly sums: { readonly [name: string]: Float64Array };
  readonly rowWeight: Float64Array;
  readonly totalWeight: number;
  readonly lossSum: number;
  readonly clients: number;
}

export class UpdateAccumulator {
  // float64 sums: float32 deltas times integer weights add up exactly, so the total does not depend
  // on the order clients arrive in (or on how many workers folded them)
  private readonly sums: Record<string, Float64Array> = {};
  private readonly rowWeight: Float64Array;
  private totalWeight = 0;
  private lossSum = 0;
  private clients = 0;

  /** Item tables of even width sum in WebAssembly SIMD (bit-identical to `addRows`). */
  private readonly simd: RowSums | null;

  constructor(private readonly info: readonly ParamInfo[], nItems: number) {
    const vectorTables = info.filter((p) => p.scope === 'global' && p.index === 'item' && p.cols % 2 === 0);
    this.simd = vectorTables.length > 0 && sumSimdSupported() ? new RowSums(vectorTables) : null;
    for (const p of info) if (p.scope === 'global') this.sums[p.name] = this.simd?.has(p.name) ? this.simd.sums(p.name) : new Float64Array(p.rows * p.cols);
    this.rowWeight = new Float64Array(nItems);
  }

  get count(): number {
    return this.clients;
  }

  get meanLoss(): number {
    return this.totalWeight > 0 ? this.lossSum / this.totalWeight : 0;
  }

  reset(): void {
    for (const s of Object.values(this.sums)) s.fill(0);
    this.rowWeight.fill(0);
    this.totalWeight = 0;
    this.lossSum = 0;
    this.clients = 0;
  }

  /**
   * Fold `update` in; with `scale` ≠ 1, its tables as clipped to that scale (bounds.ts `clipUpdate`:
   * each value float32(v · scale)), or with per-row scales as row-bound.ts `scaleRows` bounds them,
   * the same sums bit for bit without making the scaled copy.
   */
  add(update: GlobalUpdate, scale: number | RowScales = 1): void {
    const w = update.weight;
    const rows = update.rows;
    const perRow = typeof scale === 'number' ? null : scale.rows;
    const denseScale = typeof scale === 'number' ? scale : scale.dense;
    for (const p of this.info) {
      if (p.scope !== 'global') continue;
      const sum = this.sums[p.name];
      if (p.index === 'item') {
        const delta = update.itemTables[p.name];
        if (p.cols === 1 && !this.simd?.has(p.name)) addColumn(sum, rows, delta, w, perRow ?? denseScale);
        else if (perRow) {
          if (!this.simd?.has(p.name) || !this.simd.addRowsRowScaled(p.name, rows, delta, w, perRow)) addRows(sum, rows, rowScaledCopy(delta, perRow), p.cols, w);
        } else if (!this.simd?.has(p.name) || !this.simd.addRows(p.name, rows, delta, w, denseScale)) addRows(sum, rows, denseScale === 1 ? delta : scaledCopy(delta, denseScale), p.cols, w);
      } else {
        const delta = denseScale === 1 ? update.denseTables[p.name] : scaledCopy(update.denseTables[p.name], denseScale);
        for (let k = 0; k < sum.length; k++) sum[k] += w * delta[k];
      }
    }
    for (let k = 0; k < rows.length; k++) this.rowWeight[rows[k]] += w;
    this.totalWeight += w;
    this.lossSum += w * update.loss;
    this.clients++;
  }

  /** bounds.ts `updateNorm(update)`, bit for bit, with the item tables' sums of squares in SIMD where they fit. */
  normOf(update: GlobalUpdate): number {
    let sq = 0;
    for (const tables of [update.itemTables, update.denseTables]) {
      for (const [name, t] of Object.entries(tables)) {
        const simd = tables === update.itemTables && this.simd?.has(name) ? this.simd.sumOfSquares(t) : null;
        sq += simd ?? sumOfSquares(t);
      }
    }
    return Math.sqrt(sq);
  }

  /**
   * Fold `update` as bounds.ts `boundUpdate` bounds it (the server's weight, the L2 clip, the row
   * bounds, the bounded loss) — the same sums as `add(boundUpdate(update, bounds))`, bit for bit,
   * without the bounded copy: the clip and the row bounds become scales of the SIMD sum. Returns the
   * unclipped norm and the weight given, or null when the update holds a non-finite value (nothing folded).
   */
  addBounded(update: GlobalUpdate, bounds: InfluenceBounds): { readonly norm: number; readonly weight: number } | null {
    const norm = this.normOf(update);
    if (!Number.isFinite(norm)) return null;
    const clip = bounds.clipNorm ?? 0;
    const scale = clipScale(norm, clip);
    const weight = serverWeight(update.weight, bounds);
    const loss = Number.isFinite(update.loss) && Math.abs(update.loss) <= LOSS_BOUND ? update.loss : 0;
    // row bounds (row-bound.ts) are multiples of the L2 bound: none without one
    const simd = this.simd;
    const kernel = simd ? (name: string, t: Float32Array, n: number, out: Float64Array) => simd.has(name) && simd.rowSquares(t, n, out) : undefined;
    const rowScales = clip > 0 && hasRowBounds(bounds) && update.rows.length > 0 ? rowBoundScales(rowSquares(update, kernel), scale, clip, bounds) : null;
    this.add({ ...update, weight, loss }, rowScales ?? scale);
    return { norm, weight };
  }

  /** The running sums, for merging into another accumulator (e.g. one per worker thread). */
  partial(): PartialAggregate {
    const sums = Object.fromEntries(Object.entries(this.sums).map(([name, s]) => [name, this.simd?.has(name) ? s.slice() : s]));
    return { sums, rowWeight: this.rowWeight, totalWeight: this.totalWeight, lossSum: this.lossSum, clients: this.clients };
  }

  /** Fold in another accumulator's partial sums over the same tables. */
  merge(p: PartialAggregate): void {
    for (const [name, sum] of Object.entries(this.sums)) {
      const other = p.sums[name];
      if (!other || other.length !== sum.length) throw new Error(`partial aggregate lacks table '${name}' of ${sum.length} values`);
      for (let k = 0; k < sum.length; k++) sum[k] += other[k];
    }
    for (let r = 0; r < this.rowWeight.length; r++) this.rowWeight[r] += p.rowWeight[r];
    this.totalWeight += p.totalWeight;
    this.lossSum += p.lossSum;
    this.clients += p.clients;
  }

  /**
   * The averaged delta as a (negated) gradient over the touched rows, ready for a server optimiser.
   */
  averagedPseudoGradient(averaging: RowAveraging): Grads {
    const values: Record<string, Float32Array> = {};
    const touched: Record<string, Int32Array> = {};
    const widths: Record<string, number> = {};
    const rows: number[] = [];
    for (let r = 0; r < this.rowWeight.length; r++) if (this.rowWeight[r] > 0) rows.push(r);
    const itemRows = Int32Array.from(rows);
    for (const p of this.info) {
      if (p.scope !== 'global') continue;
      const sum = this.sums[p.name];
      const g = new Float32Array(sum.length);
      widths[p.name] = p.cols;
      if (p.index === 'item') {
        for (const r of itemRows) {
          const denom = averaging === 'touched' ? this.rowWeight[r] : this.totalWeight;
          for (let f = 0; f < p.cols; f++) g[r * p.cols + f] = -sum[r * p.cols + f] / denom;
        }
        touched[p.name] = itemRows;
      } else {
        for (let k = 0; k < sum.length; k++) g[k] = this.totalWeight > 0 ? -sum[k] / this.totalWeight : 0;
        touched[p.name] = Int32Array.from({ length: p.rows }, (_, r) => r);
      }
      values[p.name] = g;
    }
    return {
      values,
      touch: () => undefined,
      touchUser: () => undefined,
      touchItem: () => undefined,
      touchedRows: (name) => touched[name],
      width: (name) => widths[name],
      reset: () => undefined,
    };
  }
}

/**
 * A one-column item table (the item biases): sum[rows[k]] += w · float32(delta[k] · scale_k), the
 * sums `addRows` makes of `scaledCopy` / `rowScaledCopy`, bit for bit, without the copy.
 */
function addColumn(sum: Float64Array, rows: Int32Array, delta: Float32Array, w: number, scale: number | Float64Array): void {
  if (typeof scale !== 'number') for (let k = 0; k < rows.length; k++) sum[rows[k]] += w * Math.fround(delta[k] * scale[k]);
  else if (scale === 1) for (let k = 0; k < rows.length; k++) sum[rows[k]] += w * delta[k];
  else for (let k = 0; k < rows.length; k++) sum[rows[k]] += w * Math.fround(delta[k] * scale);
}

/** sum[rows[k]·cols + f] += w · delta[k·cols + f], unrolled by four when cols allows. */
function addRows(sum: Float64Array, rows: Int32Array, delta: Float32Array, cols: number, w: number): void {
  if (cols % 4 !== 0) {
    for (let k = 0; k < rows.length; k++) {
      const base = rows[k] * cols;
      for (let f = 0; f < cols; f++) sum[base + f] += w * delta[k * cols + f];
    }
    return;
  }
  for (let k = 0, o = 0; k < rows.length; k++) {
    let b = rows[k] * cols;
    for (const end = o + cols; o < end; o += 4, b += 4) {
      sum[b] += w * delta[o];
      sum[b + 1] += w * delta[o + 1];
      sum[b + 2] += w * delta[o + 2];
      sum[b + 3] += w * delta[o + 3];
    }
  }
}

/** A server optimiser applying averaged deltas: SGD with lr 1 is plain FedAvg. */
export class ServerUpdater {
  private readonly optimizer: Optimizer;
  constructor(
    config: OptimizerConfig,
    private readonly info: readonly ParamInfo[],
    private readonly averaging: RowAveraging,
    /** Item tables whose averaged update is centred before the step (federated/center-items.ts). */
    private readonly centered: readonly string[] = [],
  ) {
    this.optimizer = createOptimizer(config);
  }

  /**
   * Apply the round's average. Guarded: a non-finite value may never enter the model or the
   * optimiser state (a server Adam whose second moment turns Inf freezes the model for good), so
   * when the average, the stepped tables or the stepped state hold one, the step is undone and the
   * reason returned; null when applied.
   */
  apply(global: GlobalParams, acc: UpdateAccumulator): string | null {
    if (acc.count === 0) return null;
    const names = this.info.filter((p) => p.scope === 'global').map((p) => p.name);
    const grads = acc.averagedPseudoGradient(this.averaging);
    centerItemRows(grads, this.centered);
    if (!allFinite(grads.values)) return 'the averaged update holds a non-finite value';
    const stateBefore = this.optimizer.exportState();
    const tablesBefore = Object.fromEntries(names.map((n) => [n, global[n].slice()]));
    this.optimizer.step(global, grads, names);
    const tablesOk = allFinite(Object.fromEntries(names.map((n) => [n, global[n]])));
    if (tablesOk && allFinite(this.optimizer.exportState().tables)) return null;
    for (const n of names) global[n].set(tablesBefore[n]);
    this.optimizer.importState(stateBefore);
    return tablesOk ? 'the server optimiser state would hold a non-finite value' : 'the model would hold a non-finite value';
  }

  /** A copy of the server optimiser's state (Adam moments, momentum), to checkpoint with the model. */
  state(): OptimizerState {
    return this.optimizer.exportState();
  }

  /**
   * Continue from a state `state()` returned (after a restart): every slot must belong to a global
   * table and be as long as it; throws, changing nothing, otherwise.
   */
  restore(state: OptimizerState): void {
    const sizes = new Map(this.info.filter((p) => p.scope === 'global').map((p) => [p.name, p.rows * p.cols]));
    for (const [key, values] of Object.entries(state.tables)) {
      const table = key.slice(key.indexOf('/') + 1);
      const size = sizes.get(table);
      if (size === undefined) throw new Error(`server optimiser state: slot '${key}' names no global table (tables: ${[...sizes.keys()].join(', ')})`);
      if (values.length !== size) throw new Error(`server optimiser state: slot '${key}' has ${values.length} values, table '${table}' has ${size}`);
    }
    this.optimizer.importState(state);
  }
}
