/**
 * A minimal WebAssembly binary encoder (WebAssembly Core Specification 2.0, binary format, with
 * the fixed-width SIMD proposal's opcodes): just what the numeric kernels in `kernels.ts` need —
 * one imported memory, functions with i32 parameters and no results, exported by name. Code is
 * written as nested arrays of bytes (`Code`), flattened when the module is assembled.
 */

export type Code = number | readonly Code[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const F64 = 0x7c;
export type ValueType = typeof I32 | typeof F32 | typeof V128 | typeof F64;

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function flatten(code: Code, out: number[] = []): number[] {
  if (typeof code === 'number') out.push(code);
  else for (const c of code) flatten(c, out);
  return out;
}

const vec = (items: readonly Code[]): Code => [uleb(items.length), items];
const name = (s: string): Code => vec([...new TextEncoder().encode(s)]);
const simd = (op: number, ...imm: number[]): Code => [0xfd, uleb(op), imm];
/** memarg: log2 alignment and byte offset. */
const mem = (align: number, offset: number): number[] => [align, ...uleb(offset)];

// Instructions (locals are indices; loads and stores take the address from the stack, plus `offset`).
export const get = (local: number): Code => [0x20, uleb(local)];
export const set = (local: number): Code => [0x21, uleb(local)];
export const i32 = (v: number): Code => [0x41, sleb(v)];
export const i32Add: Code = 0x6a;
export const i32Mul: Code = 0x6c;
export const i32Shl: Code = 0x74;
const i32GeU: Code = 0x4f;
export const i32Load = (offset = 0): Code => [0x28, mem(2, offset)];
export const f32Load = (offset = 0): Code => [0x2a, mem(2, offset)];
export const f32Store = (offset = 0): Code => [0x38, mem(2, offset)];
export const f32Add: Code = 0x92;
export const f32Sub: Code = 0x93;
export const f32Mul: Code = 0x94;
export const f32Div: Code = 0x95;
export const f32Max: Code = 0x97;
export const f32ReinterpretI32: Code = 0xbe;
export const v128Load = (offset = 0): Code => simd(0x00, ...mem(4, offset));
export const v128Store = (offset = 0): Code => simd(0x0b, ...mem(4, offset));
/** Loads one f32 and splats it over the four lanes. */
export const v128Load32Splat = (offset = 0): Code => simd(0x09, ...mem(2, offset));
export const v128Zero: Code = simd(0x0c, ...new Array<number>(16).fill(0));
/** A constant with `v` in all four f32 lanes. */
export const f32x4Const = (v: number): Code => simd(0x0c, ...new Uint8Array(new Float32Array(4).fill(v).buffer));
/** A constant with `v` in all four i32 lanes. */
export const i32x4Const = (v: number): Code => simd(0x0c, ...new Uint8Array(new Int32Array(4).fill(v).buffer));
export const v128And: Code = simd(0x4e);
export const f32x4Splat: Code = simd(0x13);
export const f32x4ExtractLane = (lane: number): Code => simd(0x1f, lane);
export const f32x4Ge: Code = simd(0x46);
export const f32x4Gt: Code = simd(0x44);
export const f32x4Abs: Code = simd(0xe0);
/** Loads 8 bytes into the low half, zero above. */
export const v128Load64Zero = (offset = 0): Code => simd(0x5d, ...mem(3, offset));
/** Stores lane `lane` (8 bytes: two f32 or one f64) of a v128 at address + offset. */
export const v128Store64Lane = (offset = 0, lane = 0): Code => simd(0x5b, ...mem(3, offset), lane);
export const f64x2PromoteLowF32x4: Code = simd(0x5f);
export const f64x2Add: Code = simd(0xf0);
export const f64x2Sub: Code = simd(0xf1);
export const f64x2Mul: Code = simd(0xf2);
export const f64x2Splat: Code = simd(0x14);
export const f64Load = (offset = 0): Code => [0x2b, mem(3, offset)];
export const f32x4Div: Code = simd(0xe7);
export const f32x4ReplaceLane = (lane: number): Code => simd(0x20, lane);
export const v128Bitselect: Code = simd(0x52);
export const i32x4Splat: Code = simd(0x11);
export const i32x4LtU: Code = simd(0x3a);
/** A v128 constant from four i32 lanes. */
export const i32x4Lanes = (lanes: readonly number[]): Code => simd(0x0c, ...new Uint8Array(Int32Array.from(lanes).buffer));
export const f32x4Nearest: Code = simd(0x6a);
export const f32x4Add: Code = simd(0xe4);
export const f32x4Sub: Code = simd(0xe5);
export const f32x4Mul: Code = simd(0xe6);
export const f32x4Max: Code = simd(0xe9);
export const i32x4Shl: Code = simd(0xab);
export const i32x4Add: Code = simd(0xae);
export const i32x4TruncSatF32x4S: Code = simd(0xf8);

/** The bit pattern of `v` as a float32, as an int32 (to pass an f32 through an i32 parameter). */
const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);
export const f32Bits = (v: number): number => {
  bitsF32[0] = v;
  return bitsI32[0];
};
export const f32Const = (v: number): Code => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)];
export const i32LtU: Code = 0x49;
/** Pops c, b, a; pushes a when c ≠ 0, else b. */
export const select: Code = 0x1b;
/** Calls the module's function number `index` (arguments on the stack). */
export const call = (index: number): Code => [0x10, uleb(index)];

// Scalar i32 / f32 / f64 instructions the fused kernels (mf-kernels.ts `mfEpoch`, sum-kernels.ts) use.
export const i32Store = (offset = 0): Code => [0x36, mem(2, offset)];
export const i32Sub: Code = 0x6b;
export const i32Eqz: Code = 0x45;
export const i32GtU: Code = 0x4b;
export const f64Store = (offset = 0): Code => [0x39, mem(3, offset)];
export const f64Const = (v: number): Code => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
export const f64Add: Code = 0xa0;
export const f64Sub: Code = 0xa1;
export const f64Mul: Code = 0xa2;
export const f64Div: Code = 0xa3;
export const f64ConvertI32U: Code = 0xb8;
export const f32DemoteF64: Code = 0xb6;
export const f64PromoteF32: Code = 0xbb;
export const i32ReinterpretF32: Code = 0xbc;
/** Rounds both f64 lanes to f32 (round to nearest even, as Math.fround), into the two low f32 lanes, zero above. */
export const f32x4DemoteF64x2Zero: Code = simd(0x5e);
export const f64x2ExtractLane = (lane: number): Code => simd(0x21, lane);
/** `if (cond) then` (no else); `cond` pushes an i32. */
export const ifThen = (cond: Code, then: Code): Code => [cond, 0x04, 0x40, then, 0x0b];
/** `do body while (cond)`: `cond` pushes an i32. */
export const doWhile = (body: Code, cond: Code): Code => [0x03, 0x40, body, cond, 0x0d, 0, 0x0b];

// Integer bit operations and conversions (the MF kernels' xoshiro128** stream, kernels' loop bounds).
export const i32And: Code = 0x71;
export const i32Or: Code = 0x72;
export const i32Xor: Code = 0x73;
export const i32Rotl: Code = 0x77;
export const f64Floor: Code = 0x9c;
export const i32TruncF64U: Code = 0xab;

/** `local += step`. */
export const inc = (local: number, step: Code): Code => [get(local), step, i32Add, set(local)];

/** `for (local = from; local < to (unsigned); local += step) body`; `from`, `to`, `step` push an i32. */
export function forLoop(local: number, from: Code, to: Code, step: Code, body: Code): Code {
  return [
    from, set(local),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    get(local), to, i32GeU, 0x0d, 1, // br_if 1 (leave the block)
    body,
    inc(local, step),
    0x0c, 0, // br 0 (next iteration)
    0x0b, 0x0b, // end loop, end block
  ];
}

/** `if (cond) then else otherwise`; `cond` pushes an i32. */
export const ifElse = (cond: Code, then: Code, otherwise: Code): Code => [cond, 0x04, 0x40, then, 0x05, otherwise, 0x0b];

export interface FunctionDef {
  readonly name: string;
  /** All parameters are i32; locals are numbered after them. */
  readonly params: number;
  readonly locals: readonly ValueType[];
  readonly body: Code;
}

/** A module importing `env.memory` (shared when asked, with `maxPages`) and exporting `functions`. */
export function assemble(functions: readonly FunctionDef[], memory: { readonly shared: boolean; readonly maxPages: number }): Uint8Array<ArrayBuffer> {
  const section = (id: number, body: Code): Code => {
    const bytes = flatten(body);
    return [id, uleb(bytes.length), bytes];
  };
  const types = functions.map((f) => [0x60, vec(new Array<Code>(f.params).fill(I32)), vec([])]);
  const limits = memory.shared ? [0x03, uleb(1), uleb(memory.maxPages)] : [0x01, uleb(1), uleb(memory.maxPages)];
  const code = functions.map((f) => {
    const locals = f.locals.map((t) => [uleb(1), t]);
    const body = flatten([vec(locals), f.body, 0x0b]);
    return [uleb(body.length), body];
  });
  return new Uint8Array(flatten([
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, vec(types)),
    section(2, vec([[name('env'), name('memory'), 0x02, limits]])),
    section(3, vec(functions.map((_, i) => uleb(i)))),
    section(7, vec(functions.map((f, i) => [name(f.name), 0x00, uleb(i)]))),
    section(10, vec(code)),
  ]));
}
