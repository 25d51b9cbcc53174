/**
 * The contrastive losses of NCL (Lin et al., WWW 2022), as one kernel with its analytic gradient:
 * for anchor a with weight w_a and positive target p_a,
 *   loss_a = −w_a · log( exp(â·t̂_{p_a}/τ) / Σ_j exp(â·t̂_j/τ) ),
 * where x̂ = x / ‖x‖ (F.normalize). The structural loss uses anchors = layer-2k embeddings,
 * targets = layer-0 embeddings of all users (or all items), p_a = the anchor's own node; the
 * prototype loss uses anchors = layer-0 embeddings, targets = the (already normalised, constant)
 * k-means centroids, p_a = the anchor's cluster. Repeated batch entries are passed once with
 * their multiplicity folded into w_a (the loss is a sum over the batch, as in RecBole-GNN).
 */
import { kernelHeap, roundUp, rowsFrom, type KernelHeap } from '../../math/wasm/heap.js';
import { GEMM_COLS, GEMM_ROWS } from '../../math/wasm/kernels.js';

export interface InfoNceInput {
  readonly dim: number;
  /** [nAnchors, dim], normalised inside. */
  readonly anchors: Float32Array;
  /** [nTargets, dim]; normalised inside when `normalizeTargets`, else used as given. */
  readonly targets: Float32Array;
  readonly normalizeTargets: boolean;
  /** Row of each anchor's positive among the targets: [nAnchors]. */
  readonly positive: Int32Array;
  /** Weight of each anchor's term (multiplicity × coefficient): [nAnchors]. */
  readonly weight: Float32Array;
  readonly temperature: number;
}

export interface InfoNceGrads {
  /** Accumulates ∂loss/∂anchors: [nAnchors, dim]. */
  readonly anchors: Float32Array;
  /** Accumulates ∂loss/∂targets: [nTargets, dim], or null when targets are constants. */
  readonly targets: Float32Array | null;
}

const NORM_EPS = 1e-12; // F.normalize's eps

/** Logit rows per block: a block's logits [rows, targets] take about this many floats (4 MiB). */
const BLOCK_FLOATS = 1 << 20;

/**
 * Weighted sum of the anchors' InfoNCE terms; gradients are added into `grads`.
 * Runs on normalised copies in the kernel heap (`math/wasm`), zero-padded to the kernels' tiles,
 * in blocks of anchors so a block's logits stay in cache: per block, one row-local kernel call
 * (logits S = Â·T̂ᵀ, the softmax step turning S into the logit gradient G, ∂/∂Â = G·T̂), then
 * ∂/∂T̂ += Gᵀ·Â (accumulated over blocks in order). Padded rows and columns carry zero gradient.
 */
export function infoNce(input: InfoNceInput, grads: InfoNceGrads): number {
  const { dim, anchors, targets, positive, weight, temperature } = input;
  const nA = anchors.length / dim;
  const nT = targets.length / dim;
  if (!Number.isInteger(nA) || !Number.isInteger(nT)) throw new RangeError(`infoNce: anchors/targets lengths are not multiples of dim ${dim}`);
  if (positive.length !== nA || weight.length !== nA) {
    throw new RangeError(`infoNce: ${nA} anchors but ${positive.length} positives and ${weight.length} weights`);
  }
  if (!(temperature > 0)) throw new RangeError(`infoNce: temperature must be > 0, got ${temperature}`);
  if (grads.anchors.length !== anchors.length) throw new RangeError('infoNce: anchor gradient has the wrong length');
  if (grads.targets && grads.targets.length !== targets.length) throw new RangeError('infoNce: target gradient has the wrong length');
  for (let a = 0; a < nA; a++) {
    const p = positive[a];
    if (!(p >= 0 && p < nT)) throw new RangeError(`infoNce: positive ${p} of anchor ${a} outside [0, ${nT})`);
  }
  const heap = kernelHeap();
  heap.frame();
  const P = roundUp(dim, GEMM_COLS);
  const nAp = roundUp(nA, GEMM_ROWS);
  const nTp = roundUp(nT, GEMM_COLS);
  const block = Math.min(nAp, Math.max(GEMM_ROWS, Math.floor(BLOCK_FLOATS / nTp / GEMM_ROWS) * GEMM_ROWS));
  const A = heap.matrix(nAp, P);
  const T = heap.matrix(nTp, P);
  const Tt = heap.matrix(P, nTp);
  const S = heap.matrix(block, nTp);
  const gA = heap.matrix(nAp, P);
  const gT = grads.targets ? heap.matrix(nTp, P) : null;
  const aHat = heap.f32(A.at, nAp * P);
  const tHat = heap.f32(T.at, nTp * P);
  const aNorm = new Float64Array(nA);
  const tNorm = new Float64Array(nT);
  padRows(anchors, nA, dim, P, nAp, aHat, aNorm, true);
  padRows(targets, nT, dim, P, nTp, tHat, tNorm, input.normalizeTargets);
  const tHatT = heap.f32(Tt.at, P * nTp);
  for (let j = 0; j < nT; j++) for (let f = 0; f < P; f++) tHatT[f * nTp + j] = tHat[j * P + f];
  for (let f = 0; f < P; f++) tHatT.fill(0, f * nTp + nT, (f + 1) * nTp);
  if (gT) heap.f32(gT.at, nTp * P).fill(0);
  const rows = new AnchorRows(heap, positive, weight);
  const invT = 1 / temperature;
  for (let a0 = 0; a0 < nAp; a0 += block) {
    const size = Math.min(block, nAp - a0);
    const aBlock = rowsFrom(A, a0);
    heap.infoNceRows(size, Math.min(size, nA - a0), aBlock, Tt, S, T, rowsFrom(gA, a0), P, nTp, nT, invT, rows.from(a0));
    if (gT) heap.gemm(nTp, P, size, { at: S.at, row: 1, col: nTp }, aBlock, gT, true);
  }

  const gAHat = heap.f32(gA.at, nAp * P);
  for (let a = 0; a < nA; a++) normalizeBackward(aHat, a * P, aNorm[a], gAHat, a * P, grads.anchors, a * dim, dim);
  if (gT && grads.targets) {
    const gTHat = heap.f32(gT.at, nTp * P);
    const g = grads.targets;
    for (let j = 0; j < nT; j++) {
      if (input.normalizeTargets) normalizeBackward(tHat, j * P, tNorm[j], gTHat, j * P, g, j * dim, dim);
      else for (let f = 0; f < dim; f++) g[j * dim + f] += gTHat[j * P + f];
    }
  }
  return rows.loss(invT);
}

/**
 * Per-anchor data of the softmax step in the kernel heap: weights and positives in, the kernel's
 * row maxima, sums of exponentials and raw positive logits out (for the loss at the end).
 */
class AnchorRows {
  private readonly at: { readonly weights: number; readonly positives: number; readonly sums: number; readonly maxes: number; readonly posLogits: number };

  constructor(private readonly heap: KernelHeap, positive: Int32Array, private readonly weight: Float32Array) {
    const n = positive.length;
    this.at = { weights: heap.alloc(4 * n), positives: heap.alloc(4 * n), sums: heap.alloc(4 * n), maxes: heap.alloc(4 * n), posLogits: heap.alloc(4 * n) };
    heap.f32(this.at.weights, n).set(weight);
    heap.i32(this.at.positives, n).set(positive);
  }

  /** The addresses of anchor a0's entries (a block starting at anchor a0). */
  from(a0: number): AnchorRows['at'] {
    const { weights, positives, sums, maxes, posLogits } = this.at;
    return { weights: weights + 4 * a0, positives: positives + 4 * a0, sums: sums + 4 * a0, maxes: maxes + 4 * a0, posLogits: posLogits + 4 * a0 };
  }

  /** Σ_a w_a (log Σ_j exp(S[a, j]/τ) − S[a, p_a]/τ), summed in double precision. */
  loss(invT: number): number {
    const n = this.weight.length;
    const sums = this.heap.f32(this.at.sums, n);
    const maxes = this.heap.f32(this.at.maxes, n);
    const pos = this.heap.f32(this.at.posLogits, n);
    let loss = 0;
    for (let a = 0; a < n; a++) loss += this.weight[a] * ((maxes[a] - pos[a]) * invT + Math.log(sums[a]));
    return loss;
  }
}

/** out[rowsP, P] ← x [rows, dim] (normalised when asked, norms into `norms`), zero-padded. */
function padRows(x: Float32Array, rows: number, dim: number, P: number, rowsP: number, out: Float32Array, norms: Float64Array, normalize: boolean): void {
  out.fill(0, 0, rowsP * P);
  for (let r = 0; r < rows; r++) {
    const xo = r * dim;
    const oo = r * P;
    let inv = 1;
    if (normalize) {
      let s = 0;
      for (let f = 0; f < dim; f++) s += x[xo + f] * x[xo + f];
      const n = Math.max(Math.sqrt(s), NORM_EPS);
      norms[r] = n;
      inv = 1 / n;
    }
    for (let f = 0; f < dim; f++) out[oo + f] = x[xo + f] * inv;
  }
}

/** gX[xo2..] += (g − x̂ (x̂·g)) / ‖x‖ : the backward of x̂ = x/‖x‖ for one row (x̂, g padded rows). */
function normalizeBackward(xHat: Float32Array, xo: number, norm: number, g: Float32Array, go: number, gX: Float32Array, outo: number, dim: number): void {
  let proj = 0;
  for (let f = 0; f < dim; f++) proj += xHat[xo + f] * g[go + f];
  const inv = 1 / norm;
  for (let f = 0; f < dim; f++) gX[outo + f] += (g[go + f] - xHat[xo + f] * proj) * inv;
}
