/**
 * The numeric core of a FedAvg client round for matrix factorisation (Koren, Bell & Volinsky 2009;
 * FedMF-style row-sparse updates) with BCE-with-logits and plain SGD — the default federated
 * setting — in WebAssembly SIMD (math/wasm/mf-kernels.ts). It does what `client-work.ts` does with
 * the generic model, compact copy and `fitEpoch`: gather the client's item rows from the global
 * table, run the minibatch loop (same examples, order, batches and update rule), and return the
 * change of those rows. Factor rows and biases live in the kernels' memory, with one copy of the
 * global tables per round. `trainMfClientRound` also builds the examples there (sampling,
 * shuffle, compact rows: the draws of train/examples.ts, bit for bit). Float32 vector arithmetic
 * makes the result agree with the generic path to rounding, not bit for bit.
 */
import { MF_EPOCH_PARAMS, MF_KERNEL_NAMES, MF_MAX_PAGES, MF_RNG_STATE_BYTES, MF_UNROLL_MAX_BYTES, mfKernelModuleBytes, type MfKernelName } from '../math/wasm/mf-kernels.js';
import { Rng } from '../math/rng.js';
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

/** `MfClientDelta` with the rows it is on and the update's weight (examples in the last epoch). */
export interface MfClientUpdate extends MfClientDelta {
  readonly rows: Int32Array;
  readonly weight: number;
}

let moduleBytes: Uint8Array<ArrayBuffer> | null = null;
/** Compiled modules built for one row width (bytes). */
const widthModules = new Map<number, WebAssembly.Module>();
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
class OutputSlab<T extends Float32Array | Int32Array> {
  private slab: T;
  private used = 0;

  constructor(private readonly make: (n: number) => T) {
    this.slab = make(0);
  }

  /** A fresh range holding a copy of `src`. */
  copy(src: T): T {
    const n = src.length;
    if (this.used + n > this.slab.length) {
      this.slab = this.make(Math.max(SLAB, n));
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + n) as T;
    out.set(src);
    this.used += n;
    return out;
  }
}

/** Where one call's arrays sit in the kernels' memory (byte offsets). */
interface Layout {
  readonly P: number;
  readonly Q: number;
  readonly gP: number;
  readonly gQ: number;
  readonly rowsAt: number;
  readonly usersAt: number;
  readonly itemsAt: number;
  readonly labelsAt: number;
  readonly scoresAt: number;
  readonly dScoreAt: number;
  readonly itemListAt: number;
  readonly userListAt: number;
  readonly userBiasAt: number;
  readonly itemBiasAt: number;
  readonly gUserBiasAt: number;
  readonly gItemBiasAt: number;
  readonly userMarksAt: number;
  readonly itemMarksAt: number;
  readonly paramsAt: number;
  readonly end: number;
}

/** The training examples of one call, all epochs one after the other (`n` each, same offsets for every array). */
interface EpochsIn {
  readonly count: number;
  readonly n: number;
}

class MfSimdClient {
  private readonly out = new OutputSlab((n) => new Float32Array(n));
  private readonly outRows = new OutputSlab((n) => new Int32Array(n));
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MF_MAX_PAGES });
  private readonly kernels: Record<MfKernelName, Kernel>;
  /** Kernels built for one row width (straight-line row code), on the same memory, by width in bytes. */
  private readonly byWidth = new Map<number, Record<MfKernelName, Kernel>>();
  /** The global factor table and item biases copied to the start of memory, and the round they were copied for. */
  private loaded: { table: Float32Array; bias: Float32Array; round: number } | null = null;
  /**
   * After the table and biases: one int32 slot per catalogue item and an exclusion bitset (`mfCompact`,
   * `mfExamples`), the RNG state, then the item-side gradients and marks `mfEpoch` works in, with
   * room for every catalogue item (all zero between calls: the kernels leave them so, and a round
   * need not clear ~60 KB per client); per-call arrays start at `base`.
   */
  private fixed = { tableFloats: -1, nItems: -1, biasAt: 0, slotsAt: 0, bitsAt: 0, stateAt: 0, gQ: 0, gItemBiasAt: 0, itemMarksAt: 0, base: 0 };

  constructor() {
    moduleBytes ??= mfKernelModuleBytes();
    this.kernels = this.instantiate(new WebAssembly.Module(moduleBytes));
  }

  private instantiate(module: WebAssembly.Module): Record<MfKernelName, Kernel> {
    const exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    return Object.fromEntries(MF_KERNEL_NAMES.map((n) => [n, exports[n] as Kernel])) as Record<MfKernelName, Kernel>;
  }

  /** The kernels for rows of `rowBytes`: built for that width when it is small enough, else the generic ones. */
  private kernelsFor(rowBytes: number): Record<MfKernelName, Kernel> {
    if (rowBytes > MF_UNROLL_MAX_BYTES) return this.kernels;
    let k = this.byWidth.get(rowBytes);
    if (!k) {
      let module = widthModules.get(rowBytes);
      if (!module) widthModules.set(rowBytes, (module = new WebAssembly.Module(mfKernelModuleBytes(rowBytes))));
      this.byWidth.set(rowBytes, (k = this.instantiate(module)));
    }
    return k;
  }

  /** The fixed part of memory for this table and catalogue; the start of the per-call part. */
  private prepare(plan: RoundPlan, global: GlobalParams, nItems: number): number {
    const table = global.itemEmb;
    const bias = global.itemBias;
    const f = this.fixed;
    if (f.tableFloats !== table.length || f.nItems !== nItems) {
      const biasAt = align(4 * table.length);
      const slotsAt = align(biasAt + 4 * nItems);
      const bitsAt = align(slotsAt + 4 * nItems);
      const stateAt = align(bitsAt + 4 * ((nItems + 31) >>> 5));
      const gQ = align(stateAt + MF_RNG_STATE_BYTES);
      const gItemBiasAt = align(gQ + 4 * table.length);
      const itemMarksAt = align(gItemBiasAt + 4 * nItems);
      const base = align(itemMarksAt + 4 * nItems);
      this.fixed = { tableFloats: table.length, nItems, biasAt, slotsAt, bitsAt, stateAt, gQ, gItemBiasAt, itemMarksAt, base };
      const buffer = growTo(this.memory, base, MF_MAX_PAGES, 'MF SIMD client');
      new Uint8Array(buffer, slotsAt, base - slotsAt).fill(0);
      this.loaded = null;
    }
    if (this.loaded?.table !== table || this.loaded.bias !== bias || this.loaded.round !== plan.round) {
      if (bias.length !== nItems) throw new Error(`item biases hold ${bias.length} rows, the catalogue ${nItems} items`);
      new Float32Array(this.memory.buffer, 0, table.length).set(table);
      new Float32Array(this.memory.buffer, this.fixed.biasAt, nItems).set(bias);
      this.loaded = { table, bias, round: plan.round };
    }
    return this.fixed.base;
  }

  /** Offsets of a call's arrays from `base`, with room for `rowsRoom` compact rows and the examples of `epochs`. */
  private layout(base: number, dim: number, nUsers: number, rowsRoom: number, epochs: EpochsIn): Layout {
    let top = base;
    const take = (bytes: number): number => {
      const at = top;
      top = align(top + bytes);
      return at;
    };
    const rowBytes = 4 * dim;
    const all = epochs.count * epochs.n;
    const P = take(nUsers * rowBytes);
    const Q = take(rowsRoom * rowBytes);
    const gP = take(nUsers * rowBytes);
    const rowsAt = take(4 * (rowsRoom + 1)); // mfCompact writes one entry past the last row
    const usersAt = take(4 * all);
    const itemsAt = take(4 * all);
    const labelsAt = take(4 * all);
    const scoresAt = take(4 * epochs.n);
    const dScoreAt = take(4 * (epochs.n + 4)); // mfBce writes whole vectors: room for three more
    const itemListAt = take(4 * rowsRoom);
    const userListAt = take(4 * nUsers);
    const userBiasAt = take(4 * nUsers);
    const itemBiasAt = take(4 * rowsRoom);
    // zeroed together before each call: the user-side bias gradients and marks
    const gUserBiasAt = take(4 * nUsers);
    const userMarksAt = take(4 * nUsers);
    const paramsAt = take(MF_EPOCH_PARAMS.bytes);
    return {
      P, Q, gP, gQ: this.fixed.gQ, rowsAt, usersAt, itemsAt, labelsAt, scoresAt, dScoreAt, itemListAt, userListAt, userBiasAt, itemBiasAt, gUserBiasAt,
      gItemBiasAt: this.fixed.gItemBiasAt, userMarksAt, itemMarksAt: this.fixed.itemMarksAt, paramsAt, end: top,
    };
  }

  /** The generic path's compact examples (items as indices into `rows`) trained in the kernels. */
  train(plan: RoundPlan, global: GlobalParams, local: LocalParams, rows: Int32Array, epochs: readonly ExampleSet[]): MfClientDelta {
    const table = global.itemEmb;
    const dim = plan.model.dim;
    const base = this.prepare(plan, global, table.length / dim);
    const n = Math.max(0, ...epochs.map((e) => e.length));
    const L = this.layout(base, dim, local.userBias.length, rows.length, { count: epochs.length, n });
    const buffer = growTo(this.memory, L.end, MF_MAX_PAGES, 'MF SIMD client');
    new Int32Array(buffer, L.rowsAt, rows.length).set(rows);
    epochs.forEach((ex, e) => {
      new Int32Array(buffer, L.usersAt + 4 * n * e, ex.length).set(ex.users);
      new Int32Array(buffer, L.itemsAt + 4 * n * e, ex.length).set(ex.items);
      new Float32Array(buffer, L.labelsAt + 4 * n * e, ex.length).set(ex.labels);
    });
    return this.fit(plan, global, local, L, rows, rows.length, epochs.length, n, false);
  }

  /**
   * A whole client round in the kernels: its epochs' examples (positives, negatives drawn against
   * `exclusions` with the xoshiro128** `rngState`, shuffled: `mfExamples`), the compact rows
   * (`mfCompact`), then the training of `fit`. Bit-identical to the generic path's examples and
   * rows followed by `train`.
   */
  trainRound(plan: RoundPlan, global: GlobalParams, local: LocalParams, job: MfRoundJob, transient: boolean): MfClientUpdate {
    const { positives, nItems, rngState } = job;
    const table = global.itemEmb;
    const dim = plan.model.dim;
    if (table.length !== nItems * dim) throw new Error(`item table holds ${table.length / dim} rows, the catalogue ${nItems} items`);
    const base = this.prepare(plan, global, nItems);
    const nPos = positives.reduce((a, p) => a + p.length, 0);
    const n = nPos * (1 + plan.negatives);
    const epochs = { count: plan.localEpochs, n };
    const L = this.layout(base, dim, positives.length, Math.min(nItems, epochs.count * n), epochs);
    // the sampler's inputs go where the scores and the later arrays will be (used up before them)
    const J = this.placeJob(job, L.scoresAt, plan.negatives, L.end, 16);
    const countAt = J.end;
    const buffer = this.memory.buffer;
    const { stateAt, bitsAt, slotsAt } = this.fixed;
    new Int32Array(buffer, stateAt, 4).set(rngState);
    const { mfExamples, mfCompact } = this.kernels;
    for (let e = 0; e < epochs.count; e++) {
      const at = 4 * n * e;
      mfExamples(positives.length, J.posAt, J.posPtrAt, J.exclAt, J.exclPtrAt, bitsAt, nItems, plan.negatives, L.usersAt + at, L.itemsAt + at, L.labelsAt + at, stateAt);
    }
    mfCompact(epochs.count * n, L.itemsAt, slotsAt, nItems, L.rowsAt, countAt);
    const nRows = new Int32Array(buffer, countAt, 1)[0];
    const inMemory = new Int32Array(buffer, L.rowsAt, nRows);
    return this.fit(plan, global, local, L, transient ? inMemory : this.outRows.copy(inMemory), nRows, epochs.count, n, transient);
  }

  /**
   * Packs the job's positives and exclusions (per-user lists with offsets) into memory from `from`,
   * growing it to at least `minEnd` and to `tail` bytes past them; checks every positive is a
   * catalogue item and that each user sampling negatives has one left to draw.
   */
  private placeJob(job: MfRoundJob, from: number, negatives: number, minEnd: number, tail: number): { posAt: number; posPtrAt: number; exclAt: number; exclPtrAt: number; end: number } {
    const { positives, exclusions, nItems } = job;
    const nUsers = positives.length;
    let nPos = 0;
    let nExcl = 0;
    for (let u = 0; u < nUsers; u++) {
      nPos += positives[u].length;
      nExcl += exclusions[u].length;
    }
    const posAt = from;
    const posPtrAt = align(posAt + 4 * nPos);
    const exclAt = align(posPtrAt + 4 * (nUsers + 1));
    const exclPtrAt = align(exclAt + 4 * nExcl);
    const end = align(exclPtrAt + 4 * (nUsers + 1));
    const buffer = growTo(this.memory, Math.max(minEnd, end + tail), MF_MAX_PAGES, 'MF SIMD client');
    const pos = new Int32Array(buffer, posAt, nPos);
    const posPtr = new Int32Array(buffer, posPtrAt, nUsers + 1);
    const excl = new Int32Array(buffer, exclAt, nExcl);
    const exclPtr = new Int32Array(buffer, exclPtrAt, nUsers + 1);
    for (let u = 0, p = 0, x = 0; u < nUsers; u++) {
      const items = positives[u];
      for (let j = 0; j < items.length; j++) {
        const item = items[j];
        if (!(item >= 0 && item < nItems)) throw new RangeError(`item ${item} outside [0, ${nItems})`);
      }
      if (items.length * negatives > 0 && exclusions[u].length >= nItems) throw new RangeError('no item left to sample as a negative: every item is excluded');
      pos.set(items, p);
      excl.set(exclusions[u], x);
      p += items.length;
      x += exclusions[u].length;
      posPtr[u + 1] = p;
      exclPtr[u + 1] = x;
    }
    posPtr[0] = 0;
    exclPtr[0] = 0;
    return { posAt, posPtrAt, exclAt, exclPtrAt, end };
  }

  /** `mfExamples` alone, for `count` epochs (global item ids, before compaction): the tests' view of the kernel's draws. */
  examples(job: MfRoundJob, ratio: number, count: number): { users: Int32Array; items: Int32Array; labels: Float32Array }[] {
    const { positives, nItems, rngState } = job;
    const plan = { round: -1 } as RoundPlan;
    const base = this.prepare(plan, { itemEmb: new Float32Array(4 * nItems), itemBias: new Float32Array(nItems) }, nItems);
    const nPos = positives.reduce((a, p) => a + p.length, 0);
    const n = nPos * (1 + ratio);
    const J = this.placeJob(job, base, ratio, 0, 12 * n);
    const outAt = J.end;
    const buffer = this.memory.buffer;
    new Int32Array(buffer, this.fixed.stateAt, 4).set(rngState);
    const out = [];
    for (let e = 0; e < count; e++) {
      this.kernels.mfExamples(positives.length, J.posAt, J.posPtrAt, J.exclAt, J.exclPtrAt, this.fixed.bitsAt, nItems, ratio, outAt, outAt + 4 * n, outAt + 8 * n, this.fixed.stateAt);
      out.push({ users: new Int32Array(buffer, outAt, n).slice(), items: new Int32Array(buffer, outAt + 4 * n, n).slice(), labels: new Float32Array(buffer, outAt + 8 * n, n).slice() });
    }
    this.loaded = null;
    return out;
  }

  /**
   * Trains from the compact examples and the `nRows` rows already in memory at `L` (`count` epochs
   * of `n` examples, one after the other from `L.usersAt`): gathers the rows from the global table,
   * one `mfEpoch` per epoch, and returns the change of the rows and of the global bias.
   */
  private fit(plan: RoundPlan, global: GlobalParams, local: LocalParams, L: Layout, rows: Int32Array, nRows: number, count: number, n: number, transient: boolean): MfClientUpdate {
    const dim = plan.model.dim;
    const rowBytes = 4 * dim;
    const nUsers = local.userBias.length;
    const buffer = this.memory.buffer;
    const f32 = (offset: number, length: number) => new Float32Array(buffer, offset, length);
    const { gatherRows, subtractRows, gatherF32, subtractF32, mfEpoch } = this.kernelsFor(rowBytes);
    const biasAt = this.fixed.biasAt;
    const userEmb = f32(L.P, nUsers * dim);
    userEmb.set(local.userEmb);
    gatherRows(0, nRows, L.rowsAt, 0, L.Q, rowBytes);
    // gradients, bias gradients and marks start at zero (mfEpoch leaves them so; the item side stays zero between calls)
    new Uint8Array(buffer, L.gP, nUsers * rowBytes).fill(0);
    new Uint8Array(buffer, L.gUserBiasAt, L.paramsAt - L.gUserBiasAt).fill(0);
    const userBias = f32(L.userBiasAt, nUsers);
    userBias.set(local.userBias);
    gatherF32(0, nRows, L.rowsAt, biasAt, L.itemBiasAt);
    const params = new DataView(buffer, L.paramsAt, MF_EPOCH_PARAMS.bytes);
    params.setFloat64(MF_EPOCH_PARAMS.lr, plan.optimizer.lr, true);
    params.setFloat64(MF_EPOCH_PARAMS.weightDecay, plan.optimizer.weightDecay ?? 0, true);
    params.setFloat32(MF_EPOCH_PARAMS.globalBias, global.globalBias[0], true);
    for (let e = 0; e < count; e++) {
      const at = 4 * n * e;
      mfEpoch(n, plan.batch, L.usersAt + at, L.itemsAt + at, L.labelsAt + at, L.scoresAt, L.dScoreAt, L.P, L.Q, L.gP, L.gQ, rowBytes, L.userBiasAt,
        L.itemBiasAt, L.gUserBiasAt, L.gItemBiasAt, L.userMarksAt, L.itemMarksAt, L.userListAt, L.itemListAt, L.paramsAt);
    }
    const loss = count > 0 && n > 0 ? params.getFloat64(MF_EPOCH_PARAMS.lossTotal, true) / n : 0;
    const globalBias = Float32Array.of(params.getFloat32(MF_EPOCH_PARAMS.globalBias, true));
    local.userEmb.set(userEmb);
    local.userBias.set(userBias);
    subtractRows(0, nRows, L.rowsAt, 0, L.Q, rowBytes);
    subtractF32(0, nRows, L.rowsAt, biasAt, L.itemBiasAt);
    globalBias[0] -= global.globalBias[0];
    // transient: the deltas stay where the kernels left them, valid until the next call
    const itemEmb = f32(L.Q, nRows * dim);
    const itemBias = f32(L.itemBiasAt, nRows);
    return { rows, weight: count > 0 ? n : 0, itemEmb: transient ? itemEmb : this.out.copy(itemEmb), itemBias: transient ? itemBias : this.out.copy(itemBias), globalBias, loss };
  }
}

const align = (bytes: number): number => (bytes + 15) & ~15;

/** A client round for `trainMfClientRound`: its users' positives and exclusions, and its RNG. */
export interface MfRoundJob {
  /** Per local user, the positives of an epoch (with any recency repeats), in order. */
  readonly positives: readonly Int32Array[];
  /** Per local user, the sorted distinct items never drawn as negatives. */
  readonly exclusions: readonly Int32Array[];
  readonly nItems: number;
  /** xoshiro128** state words the epochs draw from (`rngStateOf`). */
  readonly rngState: Int32Array;
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

/**
 * A client round whose examples the kernels build (`MfRoundJob`): the same examples, rows, deltas,
 * loss and local tables as building them with train/examples.ts and `trainMfClient`, bit for bit.
 * `transient`: the returned rows and deltas are views of the kernels' memory, overwritten by the
 * next call (for a caller that folds each update before the next client round), not copies.
 */
export function trainMfClientRound(plan: RoundPlan, global: GlobalParams, local: LocalParams, job: MfRoundJob, transient = false): MfClientUpdate {
  client ??= new MfSimdClient();
  return client.trainRound(plan, global, local, job, transient);
}

/** `count` epochs of the kernels' BCE examples for `job` with `ratio` negatives per positive (tests). */
export function mfKernelExamples(job: MfRoundJob, ratio: number, count: number): { users: Int32Array; items: Int32Array; labels: Float32Array }[] {
  client ??= new MfSimdClient();
  return client.examples(job, ratio, count);
}

/** The four xoshiro128** state words of math/rng.ts `Rng.derive(seed, ...labels)`: the stream the kernels continue. */
export function rngStateOf(seed: number, ...labels: Array<string | number>): Int32Array {
  return Rng.derive(seed, ...labels).stateWords();
}
