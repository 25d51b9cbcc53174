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
import { f32Bits } from '../math/wasm/encoder.js';
import { MF_KERNEL_NAMES, MF_MAX_PAGES, mfKernelModuleBytes, type MfKernelName } from '../math/wasm/mf-kernels.js';
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
    const lossAt = itemBiasAt + 4 * nRows;
    const buffer = growTo(this.memory, lossAt + 4, MF_MAX_PAGES, 'MF SIMD client');
    const f32 = (offset: number, length: number) => new Float32Array(buffer, offset, length);
    const i32 = (offset: number, length: number) => new Int32Array(buffer, offset, length);
    if (this.loaded?.table !== table || this.loaded.round !== plan.round) {
      f32(G, table.length).set(table);
      this.loaded = { table, round: plan.round };
    }
    const { mfScores, mfBackward, sgdRows, gatherRows, subtractRows, mfBce } = this.kernels;
    const userEmb = f32(P, nUsers * dim);
    userEmb.set(local.userEmb);
    i32(rowsAt, nRows).set(rows);
    gatherRows(0, nRows, rowsAt, G, Q, rowBytes);
    f32(gP, (nUsers + nRows) * dim).fill(0);
    const scores = f32(scoresAt, longest);
    const dScore = f32(dScoreAt, longest);
    const itemList = i32(itemListAt, nRows);
    const userList = i32(userListAt, nUsers);
    const userBias = f32(userBiasAt, nUsers);
    userBias.set(local.userBias);
    const receivedItemBias = global.itemBias;
    const itemBias = f32(itemBiasAt, nRows);
    const lossOut = f32(lossAt, 1);
    for (let k = 0; k < nRows; k++) itemBias[k] = receivedItemBias[rows[k]];
    const globalBias = Float32Array.of(global.globalBias[0]);
    const gUserBias = new Float32Array(nUsers);
    const gItemBias = new Float32Array(nRows);
    const itemMarks = new Uint8Array(nRows);
    const userMarks = new Uint8Array(nUsers);
    const lr = plan.optimizer.lr;
    const wd = plan.optimizer.weightDecay ?? 0;
    const lrBits = f32Bits(lr);
    const wdBits = f32Bits(wd);
    let meanLoss = 0;
    for (const ex of epochs) {
      const { users, items, labels } = ex;
      i32(usersAt, ex.length).set(users);
      i32(itemsAt, ex.length).set(items);
      f32(labelsAt, ex.length).set(labels);
      let total = 0;
      for (let start = 0; start < ex.length; start += plan.batch) {
        const end = Math.min(ex.length, start + plan.batch);
        const scale = 1 / (end - start);
        mfScores(start, end, usersAt, itemsAt, P, Q, scoresAt, rowBytes);
        let nItems = 0;
        let nTouchedUsers = 0;
        let gGlobal = 0;
        mfBce(start, end, usersAt, itemsAt, labelsAt, scoresAt, userBiasAt, itemBiasAt, f32Bits(globalBias[0]), f32Bits(scale), dScoreAt, lossAt);
        total += lossOut[0];
        for (let k = start; k < end; k++) {
          const u = users[k];
          const i = items[k];
          const d = dScore[k];
          gUserBias[u] += d;
          gItemBias[i] += d;
          gGlobal += d;
          if (itemMarks[i] === 0) {
            itemMarks[i] = 1;
            itemList[nItems++] = i;
          }
          if (userMarks[u] === 0) {
            userMarks[u] = 1;
            userList[nTouchedUsers++] = u;
          }
        }
        mfBackward(start, end, usersAt, itemsAt, dScoreAt, P, Q, gP, gQ, rowBytes);
        sgdRows(0, nTouchedUsers, userListAt, P, gP, rowBytes, lrBits, wdBits);
        sgdRows(0, nItems, itemListAt, Q, gQ, rowBytes, lrBits, wdBits);
        for (let k = 0; k < nTouchedUsers; k++) {
          const u = userList[k];
          userBias[u] -= lr * (gUserBias[u] + wd * userBias[u]);
          gUserBias[u] = 0;
          userMarks[u] = 0;
        }
        for (let k = 0; k < nItems; k++) {
          const i = itemList[k];
          itemBias[i] -= lr * (gItemBias[i] + wd * itemBias[i]);
          gItemBias[i] = 0;
          itemMarks[i] = 0;
        }
        globalBias[0] -= lr * (gGlobal + wd * globalBias[0]);
      }
      meanLoss = ex.length > 0 ? total / ex.length : 0;
    }
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
