/**
 * The numeric core of a FedAvg client round for matrix factorisation (Koren, Bell & Volinsky 2009;
 * FedMF-style row-sparse updates) with BCE-with-logits and plain SGD — the default federated
 * setting — in WebAssembly SIMD (math/wasm/mf-kernels.ts). It does what `client-work.ts` does with
 * the generic model, compact copy and `fitEpoch`: gather the client's item rows from the global
 * table, run the minibatch loop (same examples, order, batches and update rule), and return the
 * change of those rows. Factor rows live in the kernels' memory, with one copy of the global
 * factor table per round; biases and the loss stay in JavaScript. Float32 vector arithmetic makes
 * the result agree with the generic path to rounding, not bit for bit.
 */
import { MF_EPOCH_PARAMS, MF_KERNEL_NAMES, MF_MAX_PAGES, mfKernelModuleBytes, type MfKernelName } from '../math/wasm/mf-kernels.js';
import { growTo } from '../math/wasm/memory.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import type { ExampleSet } from '../train/types.js';
import type { RoundPlan } from './types.js';

type Kernel = (lo: number, hi: number, ...args: number[]) => void;

/** What one MF client round trained: the change of its item rows and of the global bias. */
export interface MfClientDelta {
  /** [rows, dim] and [rows]: new − received, for the client's rows in order. */
  readonly itemEmb: Float32Array;
  readonly itemBias: Float32Array;
  readonly globalBias: Float32Array;
  /** Mean loss per example of the last epoch. */
  readonly loss: number;
}

let moduleBytes: Uint8Array<ArrayBuffer> | null = null;
let supported: boolean | null = null;

/** Whether this runtime has WebAssembly with fixed-width SIMD. */
export function simdSupported(): boolean {
  if (supported === null) {
    moduleBytes ??= mfKernelModuleBytes();
    supported = typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes);
  }
  return supported;
}

/** Whether `trainMfClient` can run this plan's training (else the generic path). */
export function mfSimdApplies(plan: Pick<RoundPlan, 'model' | 'loss' | 'optimizer'>): boolean {
  const { model, loss, optimizer } = plan;
  return model.kind === 'mf' && model.dim % 4 === 0 && loss === 'bce' && optimizer.kind === 'sgd' && !(optimizer.momentum ?? 0) && simdSupported();
}

/** Floats per output slab (4 MiB). */
const SLAB = 1 << 20;

/**
 * Output copies carved out of shared slabs: one allocation per many client rounds instead of two
 * per round (a round's delta is ~57 KB on ML-100K). Each copy is a view of its own disjoint range;
 * a slab is freed once no update holds a view of it.
 */
class OutputSlab {
  private slab = new Float32Array(0);
  private used = 0;

  copy(src: Float32Array): Float32Array {
    if (this.used + src.length > this.slab.length) {
      this.slab = new Float32Array(Math.max(SLAB, src.length));
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + src.length);
    out.set(src);
    this.used += src.length;
    return out;
  }
}

class MfSimdClient {
  private readonly out = new OutputSlab();
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MF_MAX_PAGES });
  private readonly kernels: Record<MfKernelName, Kernel>;
  /** The global factor table copied to the start of memory, and the round it was copied for. */
  private loaded: { table: Float32Array; round: number } | null = null;

  constructor() {
    moduleBytes ??= mfKernelModuleBytes();
    const exports = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes), { env: { memory: this.memory } }).exports;
    this.kernels = Object.fromEntries(MF_KERNEL_NAMES.map((n) => [n, exports[n] as Kernel])) as Record<MfKernelName, Kernel>;
  }

  train(plan: RoundPlan, global: GlobalParams, local: LocalParams, rows: Int32Array, epochs: readonly ExampleSet[]): MfClientDelta {
    const dim = plan.model.dim;
    const rowBytes = 4 * dim;
    const table = global.itemEmb;
    const nUsers = local.userBias.length;
    const nRows = rows.length;
    const longest = Math.max(0, ...epochs.map((e) => e.length));
    // layout: global factors, then this call's P, Q, gP, gQ, rows, users, items, scores, dScore, touched rows
    const G = 0;
    const P = G + table.length * 4;
    const Q = P + nUsers * rowBytes;
    const gP = Q + nRows * rowBytes;
    const gQ = gP + nUsers * rowBytes;
    const rowsAt = gQ + nRows * rowBytes;
    const usersAt = rowsAt + 4 * nRows;
    const itemsAt = usersAt + 4 * longest;
    const scoresAt = itemsAt + 4 * longest;
    const dScoreAt = scoresAt + 4 * longest;
    const itemListAt = dScoreAt + 4 * (longest + 4); // mfBce writes whole vectors: room for three more
    const userListAt = itemListAt + 4 * nRows;
    const labelsAt = userListAt + 4 * nUsers;
    const userBiasAt = labelsAt + 4 * longest;
    const itemBiasAt = userBiasAt + 4 * nUsers;
    const gUserBiasAt = itemBiasAt + 4 * nRows;
    const gItemBiasAt = gUserBiasAt + 4 * nUsers;
    const userMarksAt = gItemBiasAt + 4 * nRows;
    const itemMarksAt = userMarksAt + 4 * nUsers;
    const paramsAt = (itemMarksAt + 4 * nRows + 7) & ~7;
    const buffer = growTo(this.memory, paramsAt + MF_EPOCH_PARAMS.bytes, MF_MAX_PAGES, 'MF SIMD client');
    const f32 = (offset: number, length: number) => new Float32Array(buffer, offset, length);
    const i32 = (offset: number, length: number) => new Int32Array(buffer, offset, length);
    if (this.loaded?.table !== table || this.loaded.round !== plan.round) {
      f32(G, table.length).set(table);
      this.loaded = { table, round: plan.round };
    }
    const { gatherRows, subtractRows, mfEpoch } = this.kernels;
    const userEmb = f32(P, nUsers * dim);
    userEmb.set(local.userEmb);
    i32(rowsAt, nRows).set(rows);
    gatherRows(0, nRows, rowsAt, G, Q, rowBytes);
    // gradients, bias gradients and marks start at zero (mfEpoch leaves them so)
    new Uint8Array(buffer, gP, nUsers * rowBytes).fill(0);
    new Uint8Array(buffer, gQ, nRows * rowBytes).fill(0);
    new Uint8Array(buffer, gUserBiasAt, paramsAt - gUserBiasAt).fill(0);
    const userBias = f32(userBiasAt, nUsers);
    userBias.set(local.userBias);
    const receivedItemBias = global.itemBias;
    const itemBias = f32(itemBiasAt, nRows);
    for (let k = 0; k < nRows; k++) itemBias[k] = receivedItemBias[rows[k]];
    const params = new DataView(buffer, paramsAt, MF_EPOCH_PARAMS.bytes);
    params.setFloat64(MF_EPOCH_PARAMS.lr, plan.optimizer.lr, true);
    params.setFloat64(MF_EPOCH_PARAMS.weightDecay, plan.optimizer.weightDecay ?? 0, true);
    params.setFloat32(MF_EPOCH_PARAMS.globalBias, global.globalBias[0], true);
    let meanLoss = 0;
    for (const ex of epochs) {
      i32(usersAt, ex.length).set(ex.users);
      i32(itemsAt, ex.length).set(ex.items);
      f32(labelsAt, ex.length).set(ex.labels);
      mfEpoch(ex.length, plan.batch, usersAt, itemsAt, labelsAt, scoresAt, dScoreAt, P, Q, gP, gQ, rowBytes, userBiasAt, itemBiasAt,
        gUserBiasAt, gItemBiasAt, userMarksAt, itemMarksAt, userListAt, itemListAt, paramsAt);
      meanLoss = ex.length > 0 ? params.getFloat64(MF_EPOCH_PARAMS.lossTotal, true) / ex.length : 0;
    }
    const globalBias = Float32Array.of(params.getFloat32(MF_EPOCH_PARAMS.globalBias, true));
    local.userEmb.set(userEmb);
    local.userBias.set(userBias);
    subtractRows(0, nRows, rowsAt, G, Q, rowBytes);
    for (let k = 0; k < nRows; k++) itemBias[k] -= receivedItemBias[rows[k]];
    globalBias[0] -= global.globalBias[0];
    return { itemEmb: this.out.copy(f32(Q, nRows * dim)), itemBias: this.out.copy(itemBias), globalBias, loss: meanLoss };
  }
}

let client: MfSimdClient | null = null;

/**
 * Trains a client's MF over `epochs` (items as compact indices into the sorted global ids `rows`),
 * starting from the received `global` tables (which the server changes only between rounds) and
 * its `local` tables, updated in place; returns the change of its rows and of the global bias.
 */
export function trainMfClient(plan: RoundPlan, global: GlobalParams, local: LocalParams, rows: Int32Array, epochs: readonly ExampleSet[]): MfClientDelta {
  client ??= new MfSimdClient();
  return client.train(plan, global, local, rows, epochs);
}
