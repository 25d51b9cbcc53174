/**
 * NeuMF (He et al., WWW 2017) trained a minibatch at a time: the MLP tower's forward and backward
 * run over the whole batch as matrix products in WebAssembly SIMD (math/wasm/dense-kernels.ts),
 * the GMF branch, output layer and loss stay in JavaScript. Same examples, same gradients as
 * `NeuMF.pointwise` called example by example (the reference path), up to float32 summation order.
 */
import { pointwiseGrad, pointwiseLoss } from '../../math/kernels.js';
import { DENSE_KERNEL_NAMES, DENSE_MAX_PAGES, GEMM_COLS, GEMM_ROWS, denseKernelModuleBytes, type DenseKernelName } from '../../math/wasm/dense-kernels.js';
import { growTo } from '../../math/wasm/memory.js';
import type { Grads, Params, PointwiseLoss } from '../types.js';

type Kernel = (...args: number[]) => void;

let moduleBytes: Uint8Array<ArrayBuffer> | null = null;
let compiled: WebAssembly.Module | null = null;
let supported: boolean | null = null;

/** Whether this runtime has WebAssembly with fixed-width SIMD (else NeuMF trains example by example). */
export function denseSimdSupported(): boolean {
  if (supported === null) {
    moduleBytes ??= denseKernelModuleBytes();
    supported = typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes);
  }
  return supported;
}

/** Shapes of a NeuMF: GMF width, MLP embedding width, tower widths [2·mlpDim, layers...]. */
export interface NeumfShape {
  readonly dg: number;
  readonly dm: number;
  readonly widths: readonly number[];
}

/** Whether the batched path can run this shape (every tower width a multiple of the kernels' tile). */
export function batchedNeumfApplies(shape: NeumfShape): boolean {
  return shape.widths.every((w) => w % GEMM_COLS === 0) && denseSimdSupported();
}

const round16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** One NeuMF's batched trainer: its kernel instance and scratch memory. */
export class BatchedNeumf {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: DENSE_MAX_PAGES });
  private readonly k: Record<DenseKernelName, Kernel>;
  private readonly nL: number;
  // byte offsets: per layer k the weights W, their transpose Wt, bias, and the gradients dW, db
  private readonly W: number[] = [];
  private readonly Wt: number[] = [];
  private readonly B: number[] = [];
  private readonly dW: number[] = [];
  private readonly dB: number[] = [];
  private readonly fixedEnd: number;
  // per batch row capacity: activations A[k] [cap, w_k] (A[0] the input) and their gradients G[k]
  private capacity = 0;
  private A: number[] = [];
  private G: number[] = [];

  constructor(private readonly shape: NeumfShape) {
    moduleBytes ??= denseKernelModuleBytes();
    compiled ??= new WebAssembly.Module(moduleBytes);
    const exports = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports;
    this.k = Object.fromEntries(DENSE_KERNEL_NAMES.map((n) => [n, exports[n] as Kernel])) as Record<DenseKernelName, Kernel>;
    const w = shape.widths;
    this.nL = w.length - 1;
    let top = 0;
    const take = (floats: number): number => {
      const at = top;
      top = round16(top + 4 * floats);
      return at;
    };
    for (let l = 0; l < this.nL; l++) {
      this.W.push(take(w[l] * w[l + 1]));
      this.Wt.push(take(w[l] * w[l + 1]));
      this.B.push(take(w[l + 1]));
      this.dW.push(take(w[l] * w[l + 1]));
      this.dB.push(take(w[l + 1]));
    }
    this.fixedEnd = top;
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.ceil(rows / GEMM_ROWS) * GEMM_ROWS;
    let top = this.fixedEnd;
    this.A = [];
    this.G = [];
    for (const w of this.shape.widths) {
      this.A.push(top);
      top = round16(top + 4 * cap * w);
      this.G.push(top);
      top = round16(top + 4 * cap * w);
    }
    growTo(this.memory, top, DENSE_MAX_PAGES, 'NeuMF dense kernels');
    this.capacity = cap;
  }

  private f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  /**
   * Forward of examples [start, end) through the tower: leaves the post-ReLU activations in A[k]
   * for rows [0, n) (later rows up to the tile are zero input) and returns the padded row count.
   */
  private forwardTower(params: Params, users: Int32Array, items: Int32Array, start: number, end: number): number {
    const { dm, widths } = this.shape;
    const n = end - start;
    this.reserve(n);
    const rows = Math.ceil(n / GEMM_ROWS) * GEMM_ROWS;
    const w0 = widths[0];
    const x = this.f32(this.A[0], rows * w0);
    const mu = params.local.mlpUser;
    const mi = params.global.mlpItem;
    for (let r = 0; r < n; r++) {
      const u = users[start + r] * dm;
      const i = items[start + r] * dm;
      const o = r * w0;
      for (let f = 0; f < dm; f++) {
        x[o + f] = mu[u + f];
        x[o + dm + f] = mi[i + f];
      }
    }
    x.fill(0, n * w0, rows * w0);
    const g = params.global;
    for (let l = 0; l < this.nL; l++) {
      const wi = widths[l];
      const wo = widths[l + 1];
      this.f32(this.W[l], wi * wo).set(g[`mlp${l}.W`]);
      this.f32(this.B[l], wo).set(g[`mlp${l}.b`]);
      this.k.gemm(0, rows, this.A[l], 4 * wi, 4, this.W[l], 4 * wo, this.A[l + 1], 4 * wo, wo, wi, 0);
      this.k.biasRelu(0, rows, this.A[l + 1], 4 * wo, wo, this.B[l]);
    }
    return rows;
  }

  /** Logits of examples [start, end) into `out` (forward only). */
  scores(params: Params, users: Int32Array, items: Int32Array, start: number, end: number, out: Float32Array, outAt: number): void {
    const { dg, widths } = this.shape;
    const n = end - start;
    this.forwardTower(params, users, items, start, end);
    const wl = widths[this.nL];
    const h = this.f32(this.A[this.nL], n * wl);
    const pu = params.local.gmfUser;
    const qi = params.global.gmfItem;
    const ow = params.global['out.W'];
    const ob = params.global['out.b'][0];
    for (let r = 0; r < n; r++) {
      const u = users[start + r] * dg;
      const i = items[start + r] * dg;
      let s = ob;
      for (let f = 0; f < dg; f++) s += pu[u + f] * qi[i + f] * ow[f];
      for (let j = 0, o = r * wl; j < wl; j++) s += h[o + j] * ow[dg + j];
      out[outAt + r] = s;
    }
  }

  /**
   * `NeuMF.pointwise` over examples [start, end) at once: accumulates scale · dLoss/dScore · ∂s/∂θ
   * of every example into `grads` and returns the summed loss.
   */
  pointwise(params: Params, users: Int32Array, items: Int32Array, labels: Float32Array, start: number, end: number,
    loss: PointwiseLoss, scale: number, grads: Grads): number {
    const { dg, dm, widths } = this.shape;
    const n = end - start;
    const rows = this.forwardTower(params, users, items, start, end);
    const nL = this.nL;
    const wl = widths[nL];
    const h = this.f32(this.A[nL], rows * wl);
    const gh = this.f32(this.G[nL], rows * wl);
    const g = params.global;
    const pu = params.local.gmfUser;
    const qi = g.gmfItem;
    const ow = g['out.W'];
    const ob = g['out.b'][0];
    const gv = grads.values;
    const gOutW = gv['out.W'];
    const gPu = gv.gmfUser;
    const gQi = gv.gmfItem;
    let gOutB = 0;
    let total = 0;
    for (let r = 0; r < n; r++) {
      const u = users[start + r];
      const i = items[start + r];
      const ug = u * dg;
      const ig = i * dg;
      const o = r * wl;
      let s = ob;
      for (let f = 0; f < dg; f++) s += pu[ug + f] * qi[ig + f] * ow[f];
      for (let j = 0; j < wl; j++) s += h[o + j] * ow[dg + j];
      const label = labels[start + r];
      total += pointwiseLoss(s, label, loss);
      const d = scale * pointwiseGrad(s, label, loss);
      gOutB += d;
      for (let f = 0; f < dg; f++) {
        const p = pu[ug + f];
        const q = qi[ig + f];
        gOutW[f] += d * p * q;
        const gf = d * ow[f];
        gPu[ug + f] += gf * q;
        gQi[ig + f] += gf * p;
      }
      for (let j = 0; j < wl; j++) {
        const a = h[o + j];
        gOutW[dg + j] += d * a;
        gh[o + j] = a > 0 ? d * ow[dg + j] : 0;
      }
      grads.touchUser(u);
      grads.touchItem(i);
    }
    gv['out.b'][0] += gOutB;
    gh.fill(0, n * wl);
    for (let l = nL - 1; l >= 0; l--) {
      const wi = widths[l];
      const wo = widths[l + 1];
      const W = g[`mlp${l}.W`];
      const wt = this.f32(this.Wt[l], wi * wo);
      for (let a = 0; a < wi; a++) for (let b = 0; b < wo; b++) wt[b * wi + a] = W[a * wo + b];
      // dW = A[l]ᵀ · G[l+1] (A read through a transposed view), db = column sums of G[l+1]
      this.k.gemm(0, wi, this.A[l], 4, 4 * wi, this.G[l + 1], 4 * wo, this.dW[l], 4 * wo, wo, rows, 0);
      const db = this.f32(this.dB[l], wo);
      db.fill(0);
      this.k.colSums(0, n, this.G[l + 1], 4 * wo, wo, this.dB[l]);
      // G[l] = G[l+1] · Wᵀ, masked by the ReLU of layer l − 1's output
      this.k.gemm(0, rows, this.G[l + 1], 4 * wo, 4, this.Wt[l], 4 * wi, this.G[l], 4 * wi, wi, wo, 0);
      if (l > 0) this.k.maskPositive(0, rows, this.G[l], 4 * wi, wi, this.A[l], 4 * wi);
      addInto(gv[`mlp${l}.W`], this.f32(this.dW[l], wi * wo));
      addInto(gv[`mlp${l}.b`], db);
    }
    const gx = this.f32(this.G[0], n * widths[0]);
    const gMu = gv.mlpUser;
    const gMi = gv.mlpItem;
    const w0 = widths[0];
    for (let r = 0; r < n; r++) {
      const u = users[start + r] * dm;
      const i = items[start + r] * dm;
      const o = r * w0;
      for (let f = 0; f < dm; f++) {
        gMu[u + f] += gx[o + f];
        gMi[i + f] += gx[o + dm + f];
      }
    }
    return total;
  }
}

function addInto(dst: Float32Array, src: Float32Array): void {
  for (let k = 0; k < src.length; k++) dst[k] += src[k];
}
