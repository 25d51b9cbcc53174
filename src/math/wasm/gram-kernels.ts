/**
 * A WebAssembly SIMD kernel (four f32 lanes) for blocks of a Gram matrix: the dot products of every
 * pair of rows from two row ranges of one table — the all-pairs similarity search of a user graph
 * (UFGraphFR / GPFedRec neighbour selection, federated/user-graph.ts). A module of its own on a
 * private (unshared) memory; `GramBlocks` holds the table in that memory and hands out blocks.
 */
import {
  assemble, f32Add, f32Store, f32x4Add, f32x4ExtractLane, f32x4Mul, forLoop, get, I32, i32, i32Add, i32And, i32Mul, i32Sub, set,
  V128, v128Load, v128Zero, type Code, type FunctionDef,
} from './encoder.js';
import { growTo } from './memory.js';

/** Largest memory the kernel may use: 4 GiB, all a 32-bit memory can address (committed as it grows). */
const MAX_PAGES = 65536;

/**
 * gramBlock(iLo, iHi, jLo, jHi, table, out, rowBytes): out[(i − iLo)·(jHi − jLo) + (j − jLo)] =
 * table[i] · table[j] (f32, four lanes summed at the end) for i in [iLo, iHi), j in [jLo, jHi).
 * Four j at a time, each with its own accumulator (independent dependency chains, row i loaded
 * once): every dot product is summed in the same order as one at a time, so bit for bit the same.
 */
function gramBlock(): FunctionDef {
  const [iLo, iHi, jLo, jHi, table, out, rowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [i, j, a, b, fb, o, j4] = [7, 8, 9, 10, 11, 12, 13];
  const acc = [14, 15, 16, 17];
  const va = 18;
  const bq = [b, 19, 20, 21]; // rows j, j + 1, j + 2, j + 3
  const laneSum = (x: number): Code => [0, 1, 2, 3].map((l) => [get(x), f32x4ExtractLane(l), l > 0 ? f32Add : []]);
  const store = (x: number, at: number): Code => [get(o), laneSum(x), f32Store(at)];
  return {
    name: 'gramBlock',
    params: 7,
    locals: [I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128, I32, I32, I32],
    body: [
      get(out), set(o),
      // j4 = jLo + 4·⌊(jHi − jLo) / 4⌋: the end of the four-wide part
      get(jHi), get(jLo), i32Sub, i32(-4), i32And, get(jLo), i32Add, set(j4),
      forLoop(i, get(iLo), get(iHi), i32(1), [
        get(table), get(i), get(rowBytes), i32Mul, i32Add, set(a),
        forLoop(j, get(jLo), get(j4), i32(4), [
          get(table), get(j), get(rowBytes), i32Mul, i32Add, set(b),
          bq.slice(1).map((x, q) => [get(bq[q]), get(rowBytes), i32Add, set(x)]),
          acc.map((x) => [v128Zero, set(x)]),
          forLoop(fb, i32(0), get(rowBytes), i32(16), [
            get(a), get(fb), i32Add, v128Load(0), set(va),
            acc.map((x, q) => [get(x), get(va), get(bq[q]), get(fb), i32Add, v128Load(0), f32x4Mul, f32x4Add, set(x)]),
          ]),
          acc.map((x, q) => store(x, 4 * q)),
          get(o), i32(16), i32Add, set(o),
        ]),
        forLoop(j, get(j4), get(jHi), i32(1), [
          get(table), get(j), get(rowBytes), i32Mul, i32Add, set(b),
          v128Zero, set(acc[0]),
          forLoop(fb, i32(0), get(rowBytes), i32(16), [
            get(acc[0]), get(a), get(fb), i32Add, v128Load(0), get(b), get(fb), i32Add, v128Load(0), f32x4Mul, f32x4Add, set(acc[0]),
          ]),
          store(acc[0], 0),
          get(o), i32(4), i32Add, set(o),
        ]),
      ]),
    ],
  };
}

let moduleBytes: Uint8Array<ArrayBuffer> | null = null;

/**
 * Row vectors [n, width] copied once into the kernel's memory (rows zero-padded to a multiple of
 * four floats, which leaves dot products unchanged); `block` returns the dot products of rows
 * [iLo, iHi) × [jLo, jHi), row-major, as a view valid until the next call.
 */
export class GramBlocks {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  private readonly kernel: (...args: number[]) => void;
  private readonly rowBytes: number;
  private readonly outAt: number;
  private readonly maxBlock: number;

  constructor(vectors: Float32Array, readonly n: number, width: number, maxBlock: number) {
    if (vectors.length !== n * width) throw new RangeError(`gram blocks: expected ${n}×${width} values, got ${vectors.length}`);
    moduleBytes ??= assemble([gramBlock()], { shared: false, maxPages: MAX_PAGES });
    const padded = Math.ceil(width / 4) * 4;
    this.rowBytes = padded * 4;
    this.outAt = n * this.rowBytes;
    const buffer = growTo(this.memory, this.outAt + maxBlock * maxBlock * 4, MAX_PAGES, 'gram blocks');
    const table = new Float32Array(buffer, 0, n * padded);
    if (padded === width) table.set(vectors);
    else for (let r = 0; r < n; r++) table.set(vectors.subarray(r * width, (r + 1) * width), r * padded);
    const exports = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes), { env: { memory: this.memory } }).exports;
    this.kernel = exports.gramBlock as (...args: number[]) => void;
    this.maxBlock = maxBlock;
  }

  block(iLo: number, iHi: number, jLo: number, jHi: number): Float32Array {
    if (iHi - iLo > this.maxBlock || jHi - jLo > this.maxBlock) throw new RangeError(`gram blocks: block larger than ${this.maxBlock}`);
    this.kernel(iLo, iHi, jLo, jHi, 0, this.outAt, this.rowBytes);
    return new Float32Array(this.memory.buffer, this.outAt, (iHi - iLo) * (jHi - jLo));
  }
}
