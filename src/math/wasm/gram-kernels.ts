/**
 * A WebAssembly SIMD kernel (four f32 lanes) for blocks of a Gram matrix: the dot products of every
 * pair of rows from two row ranges of one table — the all-pairs similarity search of a user graph
 * (UFGraphFR / GPFedRec neighbour selection, federated/user-graph.ts). A module of its own on a
 * private (unshared) memory; `GramBlocks` holds the table in that memory and hands out blocks.
 */
import {
  assemble, f32Add, f32Store, f32x4Add, f32x4ExtractLane, f32x4Mul, forLoop, get, I32, i32, i32Add, i32Mul, set,
  V128, v128Load, v128Zero, type FunctionDef,
} from './encoder.js';
import { growTo } from './memory.js';

/** Largest memory the kernel may use: 4 GiB, all a 32-bit memory can address (committed as it grows). */
const MAX_PAGES = 65536;

/**
 * gramBlock(iLo, iHi, jLo, jHi, table, out, rowBytes): out[(i − iLo)·(jHi − jLo) + (j − jLo)] =
 * table[i] · table[j] (f32, four lanes summed at the end) for i in [iLo, iHi), j in [jLo, jHi).
 */
function gramBlock(): FunctionDef {
  const [iLo, iHi, jLo, jHi, table, out, rowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [i, j, a, b, fb, o] = [7, 8, 9, 10, 11, 12];
  const acc = 13;
  return {
    name: 'gramBlock',
    params: 7,
    locals: [I32, I32, I32, I32, I32, I32, V128],
    body: [
      get(out), set(o),
      forLoop(i, get(iLo), get(iHi), i32(1), [
        get(table), get(i), get(rowBytes), i32Mul, i32Add, set(a),
        forLoop(j, get(jLo), get(jHi), i32(1), [
          get(table), get(j), get(rowBytes), i32Mul, i32Add, set(b),
          v128Zero, set(acc),
          forLoop(fb, i32(0), get(rowBytes), i32(16), [
            get(acc), get(a), get(fb), i32Add, v128Load(0), get(b), get(fb), i32Add, v128Load(0), f32x4Mul, f32x4Add, set(acc),
          ]),
          get(o),
          [0, 1, 2, 3].map((l) => [get(acc), f32x4ExtractLane(l), l > 0 ? f32Add : []]),
          f32Store(0),
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
