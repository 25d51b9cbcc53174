/**
 * Graph aggregation, the server side of UFGraphFR (Wang, Hao, Xiao, "UFGraphFR: Graph Federation
 * Recommendation System based on User Text description features", J. Supercomputing 2026, arXiv
 * 2501.08044) and GPFedRec (Zhang et al., KDD 2024). A streaming `Strategy`. Round:
 *  1. accept: each user's vec(W_u) (or, option `similarity` 'items', its item-table update) is
 *     sketched at once (seeded sparse random projection, or kept exactly) and its trained rows are stored as D_u = Q_u − θ on the rows it touched. Users absent
 *     this round keep their last sketch and their last personal rows;
 *  2. graph: cosine similarity of the sketches, top-N neighbours, optional self-loop, row or
 *     symmetric normalisation → S'' (see user-graph.ts);
 *  3. propagation: L layers R = S''·A over the users' tables A_j = c_j·θ + D_j, each layer
 *     computed on every user's own rows (Eq. 16);
 *  4. global table θ_global = degree-weighted mean of the new R_u over the users holding each row
 *     (Eq. 17, with the FedMF "touched" convention: rows nobody trained keep their value); the move
 *     θ_global − θ is applied through a server optimiser (FedOpt, Reddi et al., ICLR 2021: SGD with
 *     lr 1, the default, is Eq. 17 exactly; Adam turns it into FedAdam), as is the head's average;
 *  5. personal tables: each participant's Δ_u = R_u − θ_global on its rows; absent users keep their
 *     last R_u on their rows; new users get θ_global. The MLP head is averaged (FedAvg).
 * Memory: θ, one sketch per user and the personal rows (Σ_u rows touched × d), so it grows with
 * interactions, not users × items; propagation recycles its layer buffers, so its peak is two
 * copies of the personal rows whatever L is (on the SIMD path the second copy is the kernel
 * memory, which stays allocated between rounds). Rows of R_u a user did not touch equal θ_global (the price of
 * that bound); rows of the intermediate layers (L > 1) are kept on each user's own rows only.
 */
import type { GlobalParams, ParamInfo } from '../models/types.js';
import { paramInfo, RowSparseGrads } from '../models/params.js';
import { createOptimizer } from '../optim/registry.js';
import type { Optimizer, OptimizerConfig, OptimizerState } from '../optim/types.js';
import { ServerUpdater, UpdateAccumulator } from './aggregate.js';
import { VectorSketch } from './user-sketch.js';
import { isGraphUpdate, type PersonalRows } from './personal-types.js';
import type { GlobalUpdate, RoundSummary, Strategy } from './types.js';
import { buildUserGraph, topNeighbours, type GraphNorm, type UserGraph } from './user-graph.js';
import { GraphKernels, graphSimdSupported } from '../math/wasm/graph-kernels.js';

let kernelsOn = true;
/** Tests: propagate with the JavaScript loops (false) or the SIMD kernels where they apply (true, the default); the two agree bit for bit. */
export function useGraphKernels(on: boolean): void {
  kernelsOn = on;
}

export interface GraphOptions {
  /** Top-N neighbours per user. */
  readonly neighbors: number;
  /** Propagation layers L ≥ 1. */
  readonly layers: number;
  readonly norm: GraphNorm;
  readonly selfLoop: boolean;
  /** Sketch width for similarities; 0 = exact cosine of vec(W_u). */
  readonly sketchDim: number;
  /**
   * Rows of each participant's new R_u that the server stores: 'own' (default) the rows it trained
   * (memory Σ_u rows), or 'union' those plus its neighbours' rows, so items its neighbours trained
   * reach its table as in GPFedRec's dense R_u = Σ_j S''_uj A_j (memory up to (1 + N)× more).
   */
  readonly personalRows?: 'own' | 'union';
  /**
   * What the user similarity (step 2) compares: 'weights' (default) each upload's `weightVector`
   * (UFGraphFR's vec(W_u)); 'items' the user's item-table update D_u = Q_u − θ on its trained rows,
   * as a vector of nItems·d values sketched without building it (GPFedRec's similarity of the
   * uploaded item tables, without their common part θ; an MF client uploads no other vector).
   * With 'items' the constructor's `weightDim` must be nItems·d.
   */
  readonly similarity?: 'weights' | 'items';
  /** Applies θ_global − θ and the head's averaged delta; default SGD lr 1 (Eq. 17 as written). */
  readonly serverOptimizer?: OptimizerConfig;
  readonly seed: number;
}

export interface GraphRoundStats {
  readonly graphSeconds: number;
  readonly propagateSeconds: number;
  readonly personalRows: number;
}

/** out[o .. o+n) += w · y[p .. p+n), four elements per step (the same operations as a plain loop, fewer loop checks). */
function addScaled(out: Float32Array, o: number, w: number, y: Float32Array, p: number, n: number): void {
  let k = 0;
  for (; k + 3 < n; k += 4) {
    out[o + k] += w * y[p + k];
    out[o + k + 1] += w * y[p + k + 1];
    out[o + k + 2] += w * y[p + k + 2];
    out[o + k + 3] += w * y[p + k + 3];
  }
  for (; k < n; k++) out[o + k] += w * y[p + k];
}

export class GraphAggregation implements Strategy {
  readonly name = 'graph';
  private readonly d: number;
  private readonly sketcher: VectorSketch;
  private readonly sketches: Float32Array; // [nUsers, sketcher.outDim]
  private readonly known: Uint8Array; // [nUsers] has a sketch
  /** Per user: rows and values. Between rounds Δ_u = R_u − θ; after accept, D_u = A_u − θ. */
  private readonly rows: (Int32Array | null)[];
  private readonly values: (Float32Array | null)[];
  private readonly weightOf: Float64Array;
  private readonly head: UpdateAccumulator;
  private readonly headUpdater: ServerUpdater;
  private readonly thetaOptimizer: Optimizer;
  private readonly thetaGrads: RowSparseGrads;
  private participants: number[] = [];
  private round = 0;
  /** The graph of the last round (for inspection and tests). */
  lastGraph: { users: Int32Array; graph: UserGraph } | null = null;
  lastStats: GraphRoundStats | null = null;
  /** Kernel memory of `propagateSimd`, kept across rounds (about the size of the stored personal rows). */
  private kernels: GraphKernels | null = null;
  /** Kernel memory of `minusTheta`, and whether it holds this round's θ. */
  private uploadKernels: GraphKernels | null = null;
  private thetaStaged = false;

  /**
   * @param global the server's tables ('item' [nItems, d] and the dense head); `endRound` must get the same object.
   * @param headInfo the dense head tables, averaged FedAvg-style.
   */
  constructor(
    private readonly global: GlobalParams,
    readonly nUsers: number,
    readonly nItems: number,
    weightDim: number,
    headInfo: readonly ParamInfo[],
    private readonly options: GraphOptions,
  ) {
    if (!global.item) throw new Error("graph aggregation: global parameters lack the 'item' table");
    this.d = global.item.length / nItems;
    if (!Number.isInteger(options.layers) || options.layers < 1) throw new RangeError(`graph aggregation: layers must be ≥ 1, got ${options.layers}`);
    if (!Number.isInteger(options.neighbors) || options.neighbors < 0) throw new RangeError(`graph aggregation: neighbors must be ≥ 0, got ${options.neighbors}`);
    this.sketcher = new VectorSketch(weightDim, options.sketchDim, options.seed);
    this.sketches = new Float32Array(nUsers * this.sketcher.outDim);
    this.known = new Uint8Array(nUsers);
    this.rows = new Array(nUsers).fill(null);
    this.values = new Array(nUsers).fill(null);
    this.weightOf = new Float64Array(nUsers);
    this.head = new UpdateAccumulator(headInfo, nItems);
    const server = options.serverOptimizer ?? { kind: 'sgd', lr: 1 };
    this.headUpdater = new ServerUpdater(server, headInfo, 'touched');
    this.thetaOptimizer = createOptimizer(server);
    this.thetaGrads = new RowSparseGrads([paramInfo('item', nItems, this.d, 'item')]);
  }

  /** What user u receives besides θ: its personal rows (null: none yet, R_u = θ). */
  personal(u: number): PersonalRows | null {
    const rows = this.rows[u];
    return rows ? { rows, delta: this.values[u]! } : null;
  }

  /** Number of stored personal rows over all users (memory check). */
  storedRows(): number {
    let n = 0;
    for (const r of this.rows) n += r ? r.length : 0;
    return n;
  }

  /**
   * Everything the server keeps across rounds besides θ and the head, as float32 tables (ids and
   * counts are integers below 2^24, exact in float32): per-user sketches, personal rows and
   * weights, and both server optimisers' states — what a deployment checkpoints with the model.
   */
  exportState(): OptimizerState {
    const present = this.rows.map((r, u) => ({ r, u })).filter((x): x is { r: Int32Array; u: number } => x.r !== null);
    const ids = new Float32Array(present.reduce((n, x) => n + x.r.length, 0));
    const values = new Float32Array(ids.length * this.d);
    let at = 0;
    for (const { r, u } of present) {
      for (let k = 0; k < r.length; k++) ids[at + k] = r[k];
      values.set(this.values[u]!, at * this.d);
      at += r.length;
    }
    const theta = this.thetaOptimizer.exportState();
    const head = this.headUpdater.state();
    const tables: Record<string, Float32Array> = {
      'graph/users': Float32Array.of(this.nUsers),
      'graph/sketches': this.sketches.slice(),
      'graph/known': Float32Array.from(this.known),
      'graph/weight': Float32Array.from(this.weightOf),
      'graph/rowCount': Float32Array.from(this.rows, (r) => (r ? r.length : -1)),
      'graph/rows': ids,
      'graph/values': values,
      'step/theta': Float32Array.of(theta.step),
      'step/head': Float32Array.of(head.step),
    };
    for (const [key, t] of Object.entries(theta.tables)) tables[`theta.${key}`] = t;
    for (const [key, t] of Object.entries(head.tables)) tables[`head.${key}`] = t;
    return { step: this.round, tables };
  }

  /** Continue from `exportState` of an aggregation with the same options and at most as many users. */
  importState(state: OptimizerState): void {
    const t = state.tables;
    const need = (name: string): Float32Array => {
      const v = t[name];
      if (!v) throw new Error(`graph aggregation state: table '${name}' is missing`);
      return v;
    };
    const n = need('graph/users')[0];
    if (!Number.isInteger(n) || n > this.nUsers) throw new Error(`graph aggregation state: ${n} users, this aggregation holds ${this.nUsers}`);
    const w = this.sketcher.outDim;
    const sketches = need('graph/sketches');
    const counts = need('graph/rowCount');
    if (sketches.length !== n * w || counts.length !== n) throw new Error(`graph aggregation state: sketches or row counts do not fit ${n} users of sketch width ${w}`);
    const ids = need('graph/rows');
    const values = need('graph/values');
    if (values.length !== ids.length * this.d) throw new Error(`graph aggregation state: ${values.length} values for ${ids.length} rows of width ${this.d}`);
    const split = (prefix: string, stepName: string): OptimizerState => {
      const tables: Record<string, Float32Array> = {};
      for (const [key, v] of Object.entries(t)) if (key.startsWith(prefix)) tables[key.slice(prefix.length)] = v.slice();
      return { step: need(stepName)[0], tables };
    };
    this.thetaOptimizer.importState(split('theta.', 'step/theta'));
    this.headUpdater.restore(split('head.', 'step/head'));
    this.sketches.fill(0).set(sketches);
    this.known.fill(0).set(need('graph/known'));
    this.weightOf.fill(0).set(need('graph/weight'));
    this.rows.fill(null);
    this.values.fill(null);
    let at = 0;
    for (let u = 0; u < n; u++) {
      const c = counts[u];
      if (c < 0) continue;
      this.rows[u] = Int32Array.from(ids.subarray(at, at + c));
      this.values[u] = values.slice(at * this.d, (at + c) * this.d);
      at += c;
    }
    this.round = state.step;
  }

  beginRound(round: number): void {
    this.round = round;
    this.participants = [];
    this.thetaStaged = false;
    this.head.reset();
  }

  accept(update: GlobalUpdate): void {
    if (update.round !== this.round) throw new Error(`update for round ${update.round} arrived in round ${this.round}`);
    if (!isGraphUpdate(update)) throw new Error('graph aggregation needs GraphUpdate uploads (vec(W_u) and item rows per user)');
    for (const up of update.users) {
      if (up.user < 0 || up.user >= this.nUsers) throw new Error(`graph aggregation: user ${up.user} out of range`);
      if (up.itemRows.length !== up.rows.length * this.d) throw new Error(`graph aggregation: user ${up.user} sent ${up.itemRows.length} item values for ${up.rows.length} rows of width ${this.d}`);
      const delta = this.minusTheta(up.rows, up.itemRows);
      if (this.options.similarity === 'items') this.sketcher.sketchRows(up.rows, delta, this.d, this.sketches, up.user * this.sketcher.outDim);
      else this.sketcher.sketch(up.weightVector, this.sketches, up.user * this.sketcher.outDim);
      this.known[up.user] = 1;
      this.rows[up.user] = up.rows;
      this.values[up.user] = delta;
      this.weightOf[up.user] = up.weight;
      this.participants.push(up.user);
    }
    this.head.add(update);
  }

  /**
   * D_u = Q_u − θ on the uploaded rows, a new array. In the kernel (d a multiple of 4, rows in
   * range) with θ copied into its memory at the round's first upload (θ changes in endRound only);
   * the same float32 values as the loop.
   */
  private minusTheta(rows: Int32Array, itemRows: Float32Array): Float32Array {
    const { d, nItems } = this;
    const theta = this.global.item;
    let inRange = true;
    for (let k = 0; k < rows.length; k++) if (!(rows[k] >= 0 && rows[k] < nItems)) inRange = false;
    if (!(kernelsOn && d % 4 === 0 && inRange && graphSimdSupported())) {
      const delta = itemRows.slice();
      for (let k = 0; k < rows.length; k++) {
        const base = rows[k] * d;
        for (let f = 0; f < d; f++) delta[k * d + f] -= theta[base + f];
      }
      return delta;
    }
    const K = (this.uploadKernels ??= new GraphKernels());
    K.reset();
    const thetaAt = K.alloc(4 * theta.length); // always 0: a staged θ stays put
    const rowsAt = K.alloc(4 * rows.length);
    const valuesAt = K.alloc(4 * itemRows.length);
    K.reserve();
    if (!this.thetaStaged) {
      K.f32(thetaAt, theta.length).set(theta);
      this.thetaStaged = true;
    }
    K.i32(rowsAt, rows.length).set(rows);
    const values = K.f32(valuesAt, itemRows.length);
    values.set(itemRows);
    K.minusRows(rowsAt, rows.length, valuesAt, thetaAt, 4 * d);
    return values.slice();
  }

  endRound(global: GlobalParams): RoundSummary {
    if (global !== this.global) throw new Error('graph aggregation: endRound got other parameters than the constructor');
    this.thetaStaged = false;
    const summary = { round: this.round, clients: this.head.count, loss: this.head.meanLoss };
    if (this.participants.length > 0) {
      const t0 = performance.now();
      const users = Int32Array.from({ length: this.nUsers }, (_, u) => u).filter((u) => this.known[u] === 1);
      const graph = this.buildGraph(users);
      this.lastGraph = { users, graph };
      const t1 = performance.now();
      this.propagate(users, graph);
      this.lastStats = { graphSeconds: (t1 - t0) / 1000, propagateSeconds: (performance.now() - t1) / 1000, personalRows: this.storedRows() };
    }
    this.headUpdater.apply(global, this.head);
    return summary;
  }

  private buildGraph(users: Int32Array): UserGraph {
    const w = this.sketcher.outDim;
    const n = users.length;
    const vectors = new Float32Array(n * w); // [n, w] unit rows
    users.forEach((u, k) => vectors.set(this.sketches.subarray(u * w, (u + 1) * w), k * w));
    const N = Math.min(this.options.neighbors, n - 1);
    return buildUserGraph(topNeighbours(vectors, n, w, N), n, N, { selfLoop: this.options.selfLoop, norm: this.options.norm });
  }

  /** Steps 3–5 over the graph's nodes (`users[node]` is the dense user id). */
  private propagate(users: Int32Array, graph: UserGraph): void {
    const simd = kernelsOn && this.options.personalRows !== 'union' && this.d % 2 === 0 && graphSimdSupported()
      && users.every((u) => (this.rows[u] === null) === (this.values[u] === null));
    if (simd) this.propagateSimd(users, graph);
    else this.propagateJs(users, graph);
  }

  /**
   * `propagateJs` ('own' rows, even d) with its row loops in the SIMD kernels (math/wasm/graph-kernels.ts),
   * bit for bit: every known user's rows and D_u are copied into kernel memory once; each
   * participant's new rows are computed there and written back into its D_u array (no per-round
   * allocation of rows); Eq. 17's sums and the personal rows run in the kernels too. The kernel
   * memory (about one copy of the personal rows) is kept for the next round.
   */
  private propagateSimd(users: Int32Array, graph: UserGraph): void {
    const { d, nItems } = this;
    const n = users.length;
    const theta = this.global.item;
    const L = this.options.layers;
    const isParticipant = new Uint8Array(this.nUsers);
    for (const u of this.participants) isParticipant[u] = 1;
    // Eq. 17 sums in the participants' order; fused into the last layer when that is node order.
    let fused = true;
    for (let p = 1; p < this.participants.length; p++) if (!(this.participants[p] > this.participants[p - 1])) fused = false;
    const K = (this.kernels ??= new GraphKernels());
    K.reset();
    const dBytes = 4 * d;
    const paramsAt = K.alloc(32);
    const slotAt = K.alloc(4 * nItems);
    const thetaAt = K.alloc(4 * theta.length);
    const refAt = K.alloc(4 * theta.length);
    const numAt = K.alloc(8 * theta.length);
    const denAt = K.alloc(8 * nItems);
    const rowsAt = new Int32Array(n);
    const yOff = new Int32Array(n); // node i's rows in a layer region, bytes from its start
    let region = 0;
    let widest = 0;
    for (let i = 0; i < n; i++) {
      const rowsU = this.rows[users[i]];
      if (!rowsU) continue;
      rowsAt[i] = K.alloc(4 * rowsU.length);
      yOff[i] = region;
      region += rowsU.length * dBytes;
      widest = Math.max(widest, rowsU.length);
    }
    const curAt = K.alloc(region); // the layer's input rows
    const scratchAt = K.alloc(widest * dBytes);
    K.reserve();
    const mem = K.f32(0, K.bytes / 4); // the whole memory (no growth from here on)
    const slot = K.i32(slotAt, nItems).fill(0); // item → 1 + row of the current user's output
    const thetaOld = K.f32(thetaAt, theta.length);
    thetaOld.set(theta);
    const num = K.f64(numAt, theta.length).fill(0);
    const den = K.f64(denAt, nItems).fill(0);
    const params = K.f64(paramsAt, 4);
    for (let i = 0; i < n; i++) {
      const rowsU = this.rows[users[i]];
      if (!rowsU) continue;
      K.i32(rowsAt[i], rowsU.length).set(rowsU);
      mem.set(this.values[users[i]]!, (curAt + yOff[i]) / 4);
    }
    const scratch = (size: number): Float32Array => mem.subarray(scratchAt / 4, scratchAt / 4 + size);
    let c = new Float64Array(n).fill(1);
    const finals: (Float32Array | null)[] = new Array(n).fill(null);
    // L > 1: a layer's outputs wait in JavaScript arrays (participants' D_u arrays, whose rows are
    // in kernel memory; new ones for absent users, as propagateJs) until the layer ends, then
    // replace its inputs: one region of kernel memory whatever L is.
    const inter: (Float32Array | null)[] = L > 1 ? new Array(n).fill(null) : [];
    for (let layer = 1; layer <= L; layer++) {
      const last = layer === L;
      const nextC = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const u = users[i];
        if (last && !isParticipant[u]) continue;
        const rowsU = this.rows[u];
        let ci = 0;
        const outAt = scratchAt;
        const size = rowsU ? rowsU.length * d : 0;
        if (rowsU) {
          mem.fill(0, outAt / 4, outAt / 4 + size);
          for (let k = 0; k < rowsU.length; k++) slot[rowsU[k]] = k + 1;
        }
        for (let e = graph.indptr[i]; e < graph.indptr[i + 1]; e++) {
          const j = graph.indices[e];
          const w = graph.weights[e];
          ci += w * c[j];
          const rowsJ = this.rows[users[j]];
          if (!rowsU || !rowsJ) continue;
          params[0] = w;
          K.rowsAxpy(outAt, slotAt, rowsAt[j], rowsJ.length, curAt + yOff[j], dBytes, paramsAt);
        }
        nextC[i] = ci;
        if (!rowsU) continue;
        for (let k = 0; k < rowsU.length; k++) slot[rowsU[k]] = 0;
        if (!last) {
          const keep = inter[i] ?? (isParticipant[u] ? this.values[u]! : new Float32Array(size));
          keep.set(scratch(size));
          inter[i] = keep;
          continue;
        }
        // D_u is in kernel memory now: its array takes R_u's rows
        const old = this.values[u]!;
        const v = old.length === size ? old : new Float32Array(size);
        v.set(scratch(size));
        finals[i] = v;
        if (fused) {
          params[0] = graph.degree[i];
          params[1] = ci - 1;
          K.eq17Sums(rowsAt[i], rowsU.length, scratchAt, thetaAt, numAt, denAt, dBytes, paramsAt);
        }
      }
      c = nextC;
      if (!last) for (let i = 0; i < n; i++) if (inter[i]) mem.set(inter[i]!, (curAt + yOff[i]) / 4);
    }
    // Eq. 17 over participants' new R_u = c·θ + Y, on the rows they hold.
    const nodeOf = new Int32Array(this.nUsers).fill(-1);
    users.forEach((u, i) => (nodeOf[u] = i));
    if (!fused) {
      for (const u of this.participants) {
        const i = nodeOf[u];
        const rowsU = this.rows[u];
        const y = finals[i];
        if (!rowsU || !y) continue;
        scratch(y.length).set(y);
        params[0] = graph.degree[i];
        params[1] = c[i] - 1;
        K.eq17Sums(rowsAt[i], rowsU.length, scratchAt, thetaAt, numAt, denAt, dBytes, paramsAt);
      }
    }
    const consensus = this.stepTheta(theta, thetaOld, num, den);
    // Personal rows, as in propagateJs: participants against θ_global, then absent users
    // (R_u = θ_old + Δ_u, c = 1) against the new θ.
    for (const participants of [true, false]) {
      K.f32(refAt, theta.length).set(participants ? consensus : theta);
      for (let i = 0; i < n; i++) {
        const u = users[i];
        const rowsU = this.rows[u];
        if (!rowsU || (isParticipant[u] === 1) !== participants) continue;
        const v = participants ? finals[i]! : this.values[u]!;
        const view = scratch(v.length);
        view.set(v);
        params[0] = participants ? c[i] : 1;
        K.personalRows(rowsAt[i], rowsU.length, scratchAt, thetaAt, refAt, dBytes, paramsAt);
        v.set(view);
        this.values[u] = v;
      }
    }
  }

  /** Steps 3–5 in JavaScript: the reference of `propagateSimd`, and the path for 'union' rows. */
  /**
   * Eq. 17's consensus θ_global = θ_old + num / den on the rows someone holds, and the server
   * optimiser's step of θ towards it (pseudo-gradient θ − θ_global). Returns θ_global.
   */
  private stepTheta(theta: Float32Array, thetaOld: Float32Array, num: Float64Array, den: Float64Array): Float32Array {
    const d = this.d;
    const consensus = thetaOld.slice();
    const g = this.thetaGrads;
    for (let item = 0; item < this.nItems; item++) {
      if (den[item] === 0) continue;
      const inv = 1 / den[item];
      g.touch('item', item);
      for (let k = item * d, end = k + d; k < end; k++) {
        consensus[k] += num[k] * inv;
        g.values.item[k] = -num[k] * inv;
      }
    }
    this.thetaOptimizer.step({ item: theta }, g, ['item']);
    g.reset();
    return consensus;
  }

  private propagateJs(users: Int32Array, graph: UserGraph): void {
    const { d } = this;
    const n = users.length;
    const theta = this.global.item;
    const isParticipant = new Uint8Array(this.nUsers);
    for (const u of this.participants) isParticipant[u] = 1;
    // Layer state per node: A = c·θ + Y, Y sparse on the user's rows.
    const slot = new Int32Array(this.nItems).fill(-1); // scatter map of the current user's rows
    let c = new Float64Array(n).fill(1);
    let Y: (Float32Array | null)[] = Array.from(users, (u) => this.values[u]);
    // Buffers are recycled (ping-pong): a layer's input arrays are reused for the layer after next,
    // and participants' stored D_u (replaced at the end anyway) serve as layer 2's output, so the
    // peak is two layers' worth of rows whatever L is.
    let spare: (Float32Array | null)[] = new Array(n).fill(null);
    const union = this.options.personalRows === 'union';
    const newRows: (Int32Array | null)[] = new Array(n).fill(null);
    for (let layer = 1; layer <= this.options.layers; layer++) {
      const last = layer === this.options.layers;
      const nextC = new Float64Array(n);
      const nextY: (Float32Array | null)[] = new Array(n).fill(null);
      for (let i = 0; i < n; i++) {
        const u = users[i];
        if (last && !isParticipant[u]) continue;
        let rowsU = this.rows[u];
        if (last && union) {
          // own rows and every neighbour's, sorted (the neighbours' rows are read from this.rows,
          // unchanged until the loop ends)
          const list: number[] = [];
          for (let e = graph.indptr[i]; e < graph.indptr[i + 1]; e++) {
            const rowsJ = this.rows[users[graph.indices[e]]];
            if (rowsJ) for (let b = 0; b < rowsJ.length; b++) if (slot[rowsJ[b]] === -1) { slot[rowsJ[b]] = 0; list.push(rowsJ[b]); }
          }
          if (rowsU) for (let k = 0; k < rowsU.length; k++) if (slot[rowsU[k]] === -1) { slot[rowsU[k]] = 0; list.push(rowsU[k]); }
          for (const r of list) slot[r] = -1;
          rowsU = Int32Array.from(list).sort();
          newRows[i] = rowsU;
        }
        const size = rowsU ? rowsU.length * d : 0;
        const reuse = spare[i];
        const out = !rowsU ? null : reuse && reuse.length === size ? reuse.fill(0) : new Float32Array(size);
        if (rowsU) for (let k = 0; k < rowsU.length; k++) slot[rowsU[k]] = k; // item → row of out
        let ci = 0;
        for (let e = graph.indptr[i]; e < graph.indptr[i + 1]; e++) {
          const j = graph.indices[e];
          const w = graph.weights[e];
          ci += w * c[j];
          const rowsJ = this.rows[users[j]];
          const yj = Y[j];
          if (!out || !rowsJ || !yj) continue;
          if (j === i && !union) {
            addScaled(out, 0, w, yj, 0, size); // self-loop: the same rows
            continue;
          }
          for (let b = 0; b < rowsJ.length; b++) {
            const a = slot[rowsJ[b]];
            if (a < 0) continue;
            addScaled(out, a * d, w, yj, b * d, d);
          }
        }
        if (rowsU) for (let k = 0; k < rowsU.length; k++) slot[rowsU[k]] = -1;
        nextC[i] = ci;
        nextY[i] = out;
      }
      // This layer's inputs are free now, except the stored D_u of users who did not take part
      // (they keep their last rows).
      spare = Y.map((y, i) => (layer > 1 || isParticipant[users[i]] ? y : null));
      if (layer === 1) for (const u of this.participants) this.values[u] = null;
      c = nextC;
      Y = nextY;
    }
    spare = [];
    if (union) for (let i = 0; i < n; i++) if (newRows[i]) this.rows[users[i]] = newRows[i];
    // Eq. 17 over participants' new R_u = c·θ + Y, on the rows they hold.
    const thetaOld = theta.slice();
    const num = new Float64Array(theta.length);
    const den = new Float64Array(this.nItems);
    const nodeOf = new Int32Array(this.nUsers).fill(-1);
    users.forEach((u, i) => (nodeOf[u] = i));
    for (const u of this.participants) {
      const i = nodeOf[u];
      const rowsU = this.rows[u];
      const y = Y[i];
      if (!rowsU || !y) continue;
      const deg = graph.degree[i];
      const cm1 = c[i] - 1;
      for (let k = 0; k < rowsU.length; k++) {
        const base = rowsU[k] * d;
        den[rowsU[k]] += deg;
        for (let f = 0; f < d; f++) num[base + f] += deg * (cm1 * thetaOld[base + f] + y[k * d + f]);
      }
    }
    const consensus = this.stepTheta(theta, thetaOld, num, den);
    // Personal rows: a participant's deviation from the consensus, Δ_u = R_u − θ_global (so it
    // receives θ + Δ_u, θ the optimiser's step); an absent user keeps its last R_u, relative to θ.
    for (let u = 0; u < this.nUsers; u++) {
      const rowsU = this.rows[u];
      if (!rowsU) continue;
      const participant = isParticipant[u] === 1;
      const i = nodeOf[u];
      const v = participant ? Y[i]! : this.values[u]!;
      const cu = participant ? c[i] : 1;
      const ref = participant ? consensus : theta;
      for (let k = 0; k < rowsU.length; k++) {
        const base = rowsU[k] * d;
        for (let f = 0; f < d; f++) v[k * d + f] += cu * thetaOld[base + f] - ref[base + f];
      }
      this.values[u] = v;
    }
  }
}
