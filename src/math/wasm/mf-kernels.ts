/**
 * WebAssembly SIMD kernels (four f32 lanes) for the vector work of matrix-factorisation training
 * (Koren, Bell & Volinsky 2009) on a client's compact tables: the factor dot products of a
 * minibatch, their gradients, the SGD update of touched rows, and gathering / differencing rows
 * against the global table. A module of its own, on a private
 * (unshared) memory, so it also runs in a browser tab that is not cross-origin isolated. Every
 * kernel takes an example or row range [lo, hi) first; addresses and row widths are in bytes, and
 * rows are a multiple of 16 bytes (factor dimensions a multiple of 4).
 */
import { exp4 } from './kernels.js';
import {
  assemble, doWhile, f64Floor, i32And, i32Or, i32Rotl, i32TruncF64U, i32Xor, f32Add, f32Load, f32x4Abs, f32x4Const, f32x4Div, f32x4Ge, f32x4Max, f32x4ReplaceLane, i32LtU, i32x4Add,
  i32x4Lanes, i32x4LtU, i32x4Splat, select, v128And, v128Bitselect, f32ReinterpretI32, f32Store, f32x4Add, f32x4ExtractLane, f32x4Mul, f32x4Splat, f32x4Sub, forLoop, get, I32,
  i32, i32Add, i32Load, i32Mul, i32Shl, set, V128, v128Load, v128Load32Splat, v128Store, v128Zero, type Code, type FunctionDef,
  call, F32, f32DemoteF64, f64Const, F64, inc, f64Add, f64ConvertI32U, f64Div, f64Load, f64Mul, f64PromoteF32, f64Store, f64Sub, ifThen, i32Eqz,
  i32GtU, i32ReinterpretF32, i32Store, i32Sub, f32Const, f32Sub,
} from './encoder.js';

/** The kernels, in module order. */
export const MF_KERNEL_NAMES = ['mfScores', 'mfBackward', 'sgdRows', 'gatherRows', 'subtractRows', 'mfBce', 'mfEpoch', 'mfExamples', 'mfCompact', 'gatherF32', 'subtractF32'] as const;
export type MfKernelName = (typeof MF_KERNEL_NAMES)[number];

/** Largest memory the MF kernels may use: 4 GiB, all a 32-bit WebAssembly memory can address (pages are committed only as it grows). */
export const MF_MAX_PAGES = 65536;

/** Address of row `ids[k]` of the table at `table`: table + ids[k]·rowBytes. */
const rowAt = (table: number, ids: number, k: number, rowBytes: number): Code => [
  get(table), get(ids), get(k), i32(2), i32Shl, i32Add, i32Load(0), get(rowBytes), i32Mul, i32Add,
];

/** Address `base + offset` (two locals). */
const at = (base: number, offset: number): Code => [get(base), get(offset), i32Add];

/**
 * The 16-byte vectors of a row, in order: a loop of `fb` over [0, rowBytes) or, when the module is
 * built for one row width (`unroll` bytes), straight-line code with constant offsets — the same
 * operations in the same order. `body` gets the vector's address as a base pushed by `addr` plus
 * the constant `offset` for the load or store.
 */
function eachVector(unroll: number, fb: number, rowBytes: number, body: (addr: (base: number) => Code, offset: number) => Code): Code {
  if (unroll > 0) return Array.from({ length: unroll / 16 }, (_, j) => body((base) => get(base), 16 * j));
  return forLoop(fb, i32(0), get(rowBytes), i32(16), body((base) => at(base, fb), 0));
}

/**
 * mfScores(lo, hi, users, items, p, q, out, rowBytes): out[k] = p[users[k]] · q[items[k]] (f32) for
 * examples k in [lo, hi); users and items are int32 arrays, p and q row-major tables.
 */
function mfScores(unroll: number): FunctionDef {
  const [lo, hi, users, items, p, q, out, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [k, pu, qi, fb, acc] = [8, 9, 10, 11, 12];
  return {
    name: 'mfScores',
    params: 8,
    locals: [I32, I32, I32, I32, V128],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(p, users, k, rowBytes), set(pu),
      rowAt(q, items, k, rowBytes), set(qi),
      v128Zero, set(acc),
      eachVector(unroll, fb, rowBytes, (addr, o) => [get(acc), addr(pu), v128Load(o), addr(qi), v128Load(o), f32x4Mul, f32x4Add, set(acc)]),
      get(out), get(k), i32(2), i32Shl, i32Add,
      [0, 1, 2, 3].map((l) => [get(acc), f32x4ExtractLane(l), l > 0 ? f32Add : []]),
      f32Store(0),
    ]),
  };
}

/**
 * mfBackward(lo, hi, users, items, dScore, p, q, gp, gq, rowBytes): for examples k in [lo, hi),
 * gp[users[k]] += dScore[k] · q[items[k]] and gq[items[k]] += dScore[k] · p[users[k]].
 */
function mfBackward(unroll: number): FunctionDef {
  const [lo, hi, users, items, dScore, p, q, gp, gq, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [k, pu, qi, gpu, gqi, fb, a] = [10, 11, 12, 13, 14, 15, 16];
  const d = 17;
  const addScaled = (addr: (base: number) => Code, o: number, grad: number, other: number): Code => [
    addr(grad), set(a),
    get(a), get(a), v128Load(o), get(d), addr(other), v128Load(o), f32x4Mul, f32x4Add, v128Store(o),
  ];
  return {
    name: 'mfBackward',
    params: 10,
    locals: [I32, I32, I32, I32, I32, I32, I32, V128],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(p, users, k, rowBytes), set(pu),
      rowAt(q, items, k, rowBytes), set(qi),
      rowAt(gp, users, k, rowBytes), set(gpu),
      rowAt(gq, items, k, rowBytes), set(gqi),
      get(dScore), get(k), i32(2), i32Shl, i32Add, v128Load32Splat(0), set(d),
      eachVector(unroll, fb, rowBytes, (addr, o) => [addScaled(addr, o, gpu, qi), addScaled(addr, o, gqi, pu)]),
    ]),
  };
}

/**
 * sgdRows(lo, hi, rows, theta, grad, rowBytes, lrBits, wdBits): for the listed rows rows[k],
 * k in [lo, hi): θ ← θ − lr·(g + wd·θ), then g ← 0 (lr and wd are f32 bit patterns).
 */
function sgdRows(unroll: number): FunctionDef {
  const [lo, hi, rows, theta, grad, rowBytes, lrBits, wdBits] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [k, t, g, fb] = [8, 9, 10, 11];
  const [lr, wd, tv] = [12, 13, 14];
  return {
    name: 'sgdRows',
    params: 8,
    locals: [I32, I32, I32, I32, V128, V128, V128],
    body: [
      get(lrBits), f32ReinterpretI32, f32x4Splat, set(lr),
      get(wdBits), f32ReinterpretI32, f32x4Splat, set(wd),
      forLoop(k, get(lo), get(hi), i32(1), [
        rowAt(theta, rows, k, rowBytes), set(t),
        rowAt(grad, rows, k, rowBytes), set(g),
        eachVector(unroll, fb, rowBytes, (addr, o) => [
          addr(t), v128Load(o), set(tv),
          addr(t),
          get(tv), get(lr), addr(g), v128Load(o), get(wd), get(tv), f32x4Mul, f32x4Add, f32x4Mul, f32x4Sub,
          v128Store(o),
          addr(g), v128Zero, v128Store(o),
        ]),
      ]),
    ],
  };
}

/**
 * A kernel (lo, hi, rows, src, dst, rowBytes) that sets dst[k] from src[rows[k]] for k in [lo, hi),
 * sixteen bytes at a time: `combine` gets the two vectors' addresses (to, from) and pushes the new one.
 */
function rowKernel(name: MfKernelName, unroll: number, combine: (to: Code, from: Code) => Code): FunctionDef {
  const [lo, hi, rows, src, dst, rowBytes] = [0, 1, 2, 3, 4, 5];
  const [k, from, to, fb] = [6, 7, 8, 9];
  return {
    name,
    params: 6,
    locals: [I32, I32, I32, I32],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      rowAt(src, rows, k, rowBytes), set(from),
      get(dst), get(k), get(rowBytes), i32Mul, i32Add, set(to),
      eachVector(unroll, fb, rowBytes, (addr, o) => [addr(to), combine([addr(to), v128Load(o)], [addr(from), v128Load(o)]), v128Store(o)]),
    ]),
  };
}

/** gatherRows(lo, hi, rows, src, dst, rowBytes): dst[k] = src[rows[k]] (a compact copy of the listed rows). */
const gatherRows = (unroll: number): FunctionDef => rowKernel('gatherRows', unroll, (_to, from) => from);

/**
 * subtractRows(lo, hi, rows, src, dst, rowBytes): dst[k] −= src[rows[k]] (turns trained compact rows
 * into their change since they were gathered).
 */
const subtractRows = (unroll: number): FunctionDef => rowKernel('subtractRows', unroll, (to, from) => [to, from, f32x4Sub]);

/**
 * ln(y) of the four lanes of local `y` (1 ≤ y ≤ 2, consumed), pushed on the stack: Cephes' logf
 * (y = 2ⁿ·(1 + x) with n ∈ {0, 1} chosen so that 1 + x < √2, degree-8 polynomial), ≤ 2 ulp.
 * Uses locals c, x, z.
 */
function ln12(y: number, c: number, x: number, z: number): Code {
  const coef = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
    2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
  return [
    get(y), f32x4Const(Math.SQRT2), f32x4Ge, set(c),
    get(y), f32x4Const(0.5), f32x4Mul, get(y), get(c), v128Bitselect, f32x4Const(1), f32x4Sub, set(x),
    get(x), get(x), f32x4Mul, set(z),
    f32x4Const(coef[0]), coef.slice(1).map((k) => [get(x), f32x4Mul, f32x4Const(k), f32x4Add]),
    get(x), f32x4Mul, get(z), f32x4Mul,
    get(c), f32x4Const(-2.12194440e-4), v128And, f32x4Add,
    get(z), f32x4Const(-0.5), f32x4Mul, f32x4Add,
    get(x), f32x4Add,
    get(c), f32x4Const(0.693359375), v128And, f32x4Add,
  ];
}

/**
 * mfBce(lo, hi, users, items, labels, scores, userBias, itemBias, gbBits, scaleBits, dScore, lossOut):
 * for examples k in [lo, hi), four at a time, BCE-with-logits on the logit
 * s = scores[k] + userBias[users[k]] + itemBias[items[k]] + gb: dScore[k] = scale·(σ(s) − labels[k]),
 * and lossOut (one f32) = Σ softplus(s) − labels[k]·s, with σ and softplus from one exp (as
 * `bceWithLogits` in math/kernels.ts) in float32 polynomials. dScore is written in whole vectors:
 * up to three entries after hi are overwritten (the caller leaves room).
 */
function mfBce(): FunctionDef {
  const [lo, hi, users, items, labels, scores, userBias, itemBias, gbBits, scaleBits, dScore, lossOut] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [k, kk] = [12, 13];
  const [s, lab, e, a, keep, n, r, lossAcc, gb, scale, mask] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const word = (base: number, index: Code): Code => [get(base), index, i32(2), i32Shl, i32Add];
  const lane = (l: number): Code => [
    get(k), i32(l), i32Add, set(kk),
    get(kk), get(hi), i32(1), [0x6b], get(kk), get(hi), i32LtU, select, set(kk), // kk = kk < hi ? kk : hi − 1
    get(s),
    word(scores, get(kk)), f32Load(0),
    word(userBias, [word(users, get(kk)), i32Load(0)]), f32Load(0), f32Add,
    word(itemBias, [word(items, get(kk)), i32Load(0)]), f32Load(0), f32Add,
    f32x4ReplaceLane(l), set(s),
    get(lab), word(labels, get(kk)), f32Load(0), f32x4ReplaceLane(l), set(lab),
  ];
  return {
    name: 'mfBce',
    params: 12,
    locals: [I32, I32, ...new Array(11).fill(V128)],
    body: [
      get(gbBits), f32ReinterpretI32, f32x4Splat, set(gb),
      get(scaleBits), f32ReinterpretI32, f32x4Splat, set(scale),
      v128Zero, set(lossAcc),
      forLoop(k, get(lo), get(hi), i32(4), [
        [0, 1, 2, 3].map(lane),
        get(s), get(gb), f32x4Add, set(s),
        // e = exp(−|s|)
        v128Zero, get(s), f32x4Abs, f32x4Sub, set(e),
        exp4(e, keep, n, r), set(e),
        // σ(s) = (s ≥ 0 ? 1 : e) / (1 + e); dScore = scale·(σ − label)
        word(dScore, get(k)),
        f32x4Const(1), get(e), get(s), v128Zero, f32x4Ge, v128Bitselect, f32x4Const(1), get(e), f32x4Add, f32x4Div,
        get(lab), f32x4Sub, get(scale), f32x4Mul, v128Store(0),
        // loss = max(s, 0) + ln(1 + e) − label·s, on the lanes below hi
        f32x4Const(1), get(e), f32x4Add, set(a),
        get(s), v128Zero, f32x4Max, ln12(a, keep, n, r), f32x4Add, get(lab), get(s), f32x4Mul, f32x4Sub,
        get(k), i32x4Splat, i32x4Lanes([0, 1, 2, 3]), i32x4Add, get(hi), i32x4Splat, i32x4LtU, set(mask), get(mask), v128And,
        get(lossAcc), f32x4Add, set(lossAcc),
      ]),
      get(lossOut), [0, 1, 2, 3].map((l) => [get(lossAcc), f32x4ExtractLane(l), l > 0 ? f32Add : []]), f32Store(0),
    ],
  };
}

/** Byte offsets in `mfEpoch`'s parameter block. */
export const MF_EPOCH_PARAMS = { lr: 0, weightDecay: 8, globalBias: 16, lossTotal: 24, batchLoss: 32, bytes: 48 } as const;

/**
 * mfEpoch(n, batch, users, items, labels, scores, dScore, p, q, gp, gq, rowBytes, userBias, itemBias,
 * gUserBias, gItemBias, userMarks, itemMarks, userList, itemList, params): one epoch of minibatch
 * SGD on BCE over examples [0, n), batches of `batch` in order — the loop `mf-simd-client.ts` ran in
 * JavaScript, now one call: per batch mfScores, mfBce (scale 1/size), the bias gradients (f32 sums)
 * and the lists of touched rows (marks: int32 per row, zero before and after), mfBackward, sgdRows
 * over the touched user and item rows, then the bias steps b ← b − lr·(g + wd·b) in float64 rounded to
 * float32, the global bias's gradient summed in float64 — the very operations of the JavaScript loop,
 * so the result is bit-identical to it. `params` (MF_EPOCH_PARAMS): f64 lr, f64 wd, f32 global bias
 * (updated in place), f64 loss total out (Σ of the batches' f32 losses), one f32 of scratch.
 */
function mfEpoch(): FunctionDef {
  const [n, batch, users, items, labels, scores, dScore, p, q, gp, gq, rowBytes, userBias, itemBias, gUserBias, gItemBias,
    userMarks, itemMarks, userList, itemList, params] = Array.from({ length: 21 }, (_, k) => k);
  const [start, end, k, u, i, nI, nU, lrBits, wdBits] = [21, 22, 23, 24, 25, 26, 27, 28, 29];
  const [gGlobal, lr, wd, total, b] = [30, 31, 32, 33, 34];
  const d = 35;
  const word = (base: number, index: Code): Code => [get(base), index, i32(2), i32Shl, i32Add];
  const P = MF_EPOCH_PARAMS;
  // table[r] += d (f32)
  const addTo = (table: number, r: number): Code => [word(table, get(r)), word(table, get(r)), f32Load(0), get(d), f32Add, f32Store(0)];
  // first touch of row r this batch: mark it and append it to the list
  const listOnce = (marks: number, list: number, r: number, count: number): Code => ifThen([word(marks, get(r)), i32Load(0), i32Eqz], [
    word(marks, get(r)), i32(1), i32Store(0),
    word(list, get(count)), get(r), i32Store(0),
    inc(count, i32(1)),
  ]);
  // for each listed row: bias ← f32(b − lr·(g + wd·b)), g ← 0, mark ← 0
  const biasSteps = (list: number, count: number, bias: number, grad: number, marks: number, r: number): Code =>
    forLoop(k, i32(0), get(count), i32(1), [
      word(list, get(k)), i32Load(0), set(r),
      word(bias, get(r)), f32Load(0), f64PromoteF32, set(b),
      word(bias, get(r)),
      get(b), get(lr), word(grad, get(r)), f32Load(0), f64PromoteF32, get(wd), get(b), f64Mul, f64Add, f64Mul, f64Sub, f32DemoteF64,
      f32Store(0),
      word(grad, get(r)), f32Const(0), f32Store(0),
      word(marks, get(r)), i32(0), i32Store(0),
    ]);
  return {
    name: 'mfEpoch',
    params: 21,
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F32],
    body: [
      get(params), f64Load(P.lr), set(lr),
      get(params), f64Load(P.weightDecay), set(wd),
      get(lr), f32DemoteF64, i32ReinterpretF32, set(lrBits),
      get(wd), f32DemoteF64, i32ReinterpretF32, set(wdBits),
      f64Const(0), set(total),
      forLoop(start, i32(0), get(n), get(batch), [
        // end = min(start + batch, n)
        get(start), get(batch), i32Add, set(end),
        get(n), get(end), get(end), get(n), i32GtU, select, set(end),
        get(start), get(end), get(users), get(items), get(p), get(q), get(scores), get(rowBytes), call(0),
        get(start), get(end), get(users), get(items), get(labels), get(scores), get(userBias), get(itemBias),
        get(params), f32Load(P.globalBias), i32ReinterpretF32,
        f64Const(1), get(end), get(start), i32Sub, f64ConvertI32U, f64Div, f32DemoteF64, i32ReinterpretF32,
        get(dScore), get(params), i32(P.batchLoss), i32Add, call(5),
        get(total), get(params), f32Load(P.batchLoss), f64PromoteF32, f64Add, set(total),
        i32(0), set(nI), i32(0), set(nU), f64Const(0), set(gGlobal),
        forLoop(k, get(start), get(end), i32(1), [
          word(users, get(k)), i32Load(0), set(u),
          word(items, get(k)), i32Load(0), set(i),
          word(dScore, get(k)), f32Load(0), set(d),
          addTo(gUserBias, u),
          addTo(gItemBias, i),
          get(gGlobal), get(d), f64PromoteF32, f64Add, set(gGlobal),
          listOnce(itemMarks, itemList, i, nI),
          listOnce(userMarks, userList, u, nU),
        ]),
        get(start), get(end), get(users), get(items), get(dScore), get(p), get(q), get(gp), get(gq), get(rowBytes), call(1),
        i32(0), get(nU), get(userList), get(p), get(gp), get(rowBytes), get(lrBits), get(wdBits), call(2),
        i32(0), get(nI), get(itemList), get(q), get(gq), get(rowBytes), get(lrBits), get(wdBits), call(2),
        biasSteps(userList, nU, userBias, gUserBias, userMarks, u),
        biasSteps(itemList, nI, itemBias, gItemBias, itemMarks, i),
        // global bias ← f32(gb − lr·(gGlobal + wd·gb))
        get(params), f32Load(P.globalBias), f64PromoteF32, set(b),
        get(params),
        get(b), get(lr), get(gGlobal), get(wd), get(b), f64Mul, f64Add, f64Mul, f64Sub, f32DemoteF64,
        f32Store(P.globalBias),
      ]),
      get(params), get(total), f64Store(P.lossTotal),
    ],
  };
}


/** Byte offsets in the RNG state block of `mfExamples`: xoshiro128**'s four 32-bit words. */
export const MF_RNG_STATE_BYTES = 16;

/**
 * One draw of math/rng.ts `Rng.int(n)`: xoshiro128** on the state words in locals s[0..3] (t, c, d
 * scratch), then floor(u32 / 2³² · n) in float64, the very operations of the JavaScript, so the
 * same stream. `n` pushes an f64; the draw is left in local `out`.
 */
function drawInt(s: readonly number[], t: number, c: number, d: number, n: Code, out: number): Code {
  const [s0, s1, s2, s3] = s;
  return [
    get(s1), i32(5), i32Mul, i32(7), i32Rotl, i32(9), i32Mul, set(out),
    get(s1), i32(9), i32Shl, set(t),
    get(s2), get(s0), i32Xor, set(c),
    get(s3), get(s1), i32Xor, set(d),
    get(s1), get(c), i32Xor, set(s1),
    get(s0), get(d), i32Xor, set(s0),
    get(c), get(t), i32Xor, set(s2),
    get(d), i32(11), i32Rotl, set(s3),
    // u32 / 2³² is exact, so the product by 2⁻³² is the same number
    get(out), f64ConvertI32U, f64Const(2 ** -32), f64Mul, n, f64Mul, f64Floor, i32TruncF64U, set(out),
  ];
}

/**
 * mfExamples(nUsers, pos, posPtr, excl, exclPtr, bits, nItems, ratio, users, items, labels, state):
 * one epoch of BCE examples as train/examples.ts `buildEpochExamples` builds them with the client's
 * samplers (data/negatives.ts `UserNegativeSampler`): for each local user u, its positives
 * pos[posPtr[u] .. posPtr[u+1]) with label 1, then (their count × ratio) negatives drawn uniformly
 * from [0, nItems) and redrawn while in u's exclusion list excl[exclPtr[u] .. exclPtr[u+1]) (set in
 * the zeroed bitset `bits` for the user's draws, cleared after), label 0; then a Fisher–Yates
 * shuffle of the three arrays together. Draws come from the xoshiro128** state at `state`
 * (updated), so examples, order and state equal the JavaScript's.
 */
function mfExamples(): FunctionDef {
  const [nUsers, pos, posPtr, excl, exclPtr, bits, nItems, ratio, users, items, labels, state] = Array.from({ length: 12 }, (_, k) => k);
  const s = [12, 13, 14, 15];
  const [t, c, d, u, j, lo, hi, k, cnt, item, x, i, tmp, step] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
  const nF = 30;
  const word = (base: number, index: Code): Code => [get(base), index, i32(2), i32Shl, i32Add];
  const bitWord = (v: number): Code => [get(bits), get(v), i32(5), 0x76 /* i32.shr_u */, i32(2), i32Shl, i32Add];
  const store = (base: number, index: number, value: Code, f32 = false): Code => [word(base, get(index)), value, f32 ? f32Store(0) : i32Store(0)];
  const swap = (base: number): Code => [
    word(base, get(i)), i32Load(0), set(tmp),
    word(base, get(i)), word(base, get(j)), i32Load(0), i32Store(0),
    word(base, get(j)), get(tmp), i32Store(0),
  ];
  return {
    name: 'mfExamples',
    params: 12,
    locals: [...new Array(18).fill(I32), F64],
    body: [
      s.map((v, l) => [get(state), i32Load(4 * l), set(v)]),
      get(nItems), f64ConvertI32U, set(nF),
      i32(0), set(k),
      forLoop(u, i32(0), get(nUsers), i32(1), [
        word(posPtr, get(u)), i32Load(0), set(lo),
        word(posPtr, get(u)), i32Load(4), set(hi),
        forLoop(j, get(lo), get(hi), i32(1), [
          store(users, k, get(u)), store(items, k, [word(pos, get(j)), i32Load(0)]), store(labels, k, f32Const(1), true),
          inc(k, i32(1)),
        ]),
        get(hi), get(lo), i32Sub, get(ratio), i32Mul, set(cnt),
        word(exclPtr, get(u)), i32Load(0), set(lo),
        word(exclPtr, get(u)), i32Load(4), set(hi),
        forLoop(j, get(lo), get(hi), i32(1), [
          word(excl, get(j)), i32Load(0), set(x),
          bitWord(x), bitWord(x), i32Load(0), i32(1), get(x), i32Shl, i32Or, i32Store(0),
        ]),
        forLoop(j, i32(0), get(cnt), i32(1), [
          doWhile(drawInt(s, t, c, d, get(nF), item), [bitWord(item), i32Load(0), i32(1), get(item), i32Shl, i32And]),
          store(users, k, get(u)), store(items, k, get(item)), store(labels, k, f32Const(0), true),
          inc(k, i32(1)),
        ]),
        forLoop(j, get(lo), get(hi), i32(1), [word(excl, get(j)), i32Load(0), set(x), bitWord(x), i32(0), i32Store(0)]),
      ]),
      // for i = k − 1 down to 1: j = int(i + 1), swap
      forLoop(step, i32(1), get(k), i32(1), [
        get(k), get(step), i32Sub, set(i),
        drawInt(s, t, c, d, [get(i), i32(1), i32Add, f64ConvertI32U], j),
        ifThen([get(nUsers), i32(1), i32GtU], swap(users)), // one user: every entry is 0
        swap(items), swap(labels),
      ]),
      s.map((v, l) => [get(state), get(v), i32Store(4 * l)]),
    ],
  };
}

/**
 * mfCompact(n, items, slots, nItems, rows, countAt): the sorted distinct items of items[0 .. n)
 * into `rows` (their count, an int32, at countAt) and every items[k] replaced by its index among
 * them — federated/compact.ts `RowIndex` and `toCompact` in one pass over one slot per catalogue
 * item (`slots`, zero before and after). Items must lie in [0, nItems); `rows` needs room for one
 * entry more than the distinct items.
 */
function mfCompact(): FunctionDef {
  const [n, items, slots, nItems, rows, countAt] = [0, 1, 2, 3, 4, 5];
  const [k, it, m] = [6, 7, 8];
  const word = (base: number, index: Code): Code => [get(base), index, i32(2), i32Shl, i32Add];
  return {
    name: 'mfCompact',
    params: 6,
    locals: [I32, I32, I32],
    body: [
      forLoop(k, i32(0), get(n), i32(1), [word(slots, [word(items, get(k)), i32Load(0)]), i32(1), i32Store(0)]),
      i32(0), set(m),
      // branch-free: rows[m] = it always, m advances (and the slot takes m) only for marked items
      forLoop(it, i32(0), get(nItems), i32(1), [
        word(rows, get(m)), get(it), i32Store(0),
        word(slots, get(it)), i32Load(0), i32(0), 0x47 /* i32.ne */, get(m), i32Add, set(m),
        word(slots, get(it)), get(m), i32(0), word(slots, get(it)), i32Load(0), select, i32Store(0),
      ]),
      forLoop(k, i32(0), get(n), i32(1), [
        word(items, get(k)), word(slots, [word(items, get(k)), i32Load(0)]), i32Load(0), i32(1), i32Sub, i32Store(0),
      ]),
      forLoop(k, i32(0), get(m), i32(1), [word(slots, [word(rows, get(k)), i32Load(0)]), i32(0), i32Store(0)]),
      get(countAt), get(m), i32Store(0),
    ],
  };
}

/**
 * A kernel (lo, hi, rows, src, dst) on one f32 per row: dst[k] = src[rows[k]] (`gatherF32`) or
 * dst[k] −= src[rows[k]] (`subtractF32`) for k in [lo, hi) — the item biases beside the factor rows.
 */
function scalarRowKernel(name: MfKernelName, subtract: boolean): FunctionDef {
  const [lo, hi, rows, src, dst] = [0, 1, 2, 3, 4];
  const [k, to] = [5, 6];
  const word = (base: number, index: Code): Code => [get(base), index, i32(2), i32Shl, i32Add];
  const from: Code = [word(src, [word(rows, get(k)), i32Load(0)]), f32Load(0)];
  return {
    name,
    params: 5,
    locals: [I32, I32],
    body: forLoop(k, get(lo), get(hi), i32(1), [
      word(dst, get(k)), set(to),
      get(to), subtract ? [get(to), f32Load(0), from, f32Sub] : from, f32Store(0),
    ]),
  };
}

/** Widest row (bytes) the module is built for with straight-line row code; wider rows take the loops. */
export const MF_UNROLL_MAX_BYTES = 512;

/**
 * The module's binary (memory imported as `env.memory`, not shared). With `rowBytes` (a multiple of
 * 16, at most MF_UNROLL_MAX_BYTES), the row kernels are built for rows of exactly that width and
 * ignore their `rowBytes` argument; without it they loop over any width.
 */
export function mfKernelModuleBytes(rowBytes = 0): Uint8Array<ArrayBuffer> {
  if (rowBytes !== 0 && !(rowBytes % 16 === 0 && rowBytes > 0 && rowBytes <= MF_UNROLL_MAX_BYTES)) throw new RangeError(`mfKernelModuleBytes: row width ${rowBytes} bytes`);
  const u = rowBytes;
  return assemble([mfScores(u), mfBackward(u), sgdRows(u), gatherRows(u), subtractRows(u), mfBce(), mfEpoch(), mfExamples(), mfCompact(),
    scalarRowKernel('gatherF32', false), scalarRowKernel('subtractF32', true)],
    { shared: false, maxPages: MF_MAX_PAGES });
}

