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
import { kernelHeap, roundUp, type HeapMatrix, type KernelHeap } from '../../math/wasm/heap.js';
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

/**
 * Weighted sum of the anchors' InfoNCE terms; gradients are added into `grads`.
 * The three products (logits Â·T̂ᵀ, ∂/∂Â = G·T̂, ∂/∂T̂ = Gᵀ·Â, G the logit gradients) run as the
 * WebAssembly SIMD gemm (`math/wasm`) on normalised copies in the kernel heap, zero-padded to the
 * kernel's tile sizes; padded rows and columns carry zero gradient.
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
  const A = heap.matrix(nAp, P);
  const T = heap.matrix(nTp, P);
  const Tt = heap.matrix(P, nTp);
  const S = heap.matrix(nAp, nTp);
  const aHat = heap.f32(A.at, nAp * P);
  const tHat = heap.f32(T.at, nTp * P);
  const aNorm = new Float64Array(nA);
  const tNorm = new Float64Array(nT);
  padRows(anchors, nA, dim, P, nAp, aHat, aNorm, true);
  padRows(targets, nT, dim, P, nTp, tHat, tNorm, input.normalizeTargets);
  const tHatT = heap.f32(Tt.at, P * nTp);
  for (let j = 0; j < nT; j++) for (let f = 0; f < P; f++) tHatT[f * nTp + j] = tHat[j * P + f];
  for (let f = 0; f < P; f++) tHatT.fill(0, f * nTp + nT, (f + 1) * nTp);
  heap.gemm(nAp, nTp, P, A, Tt, S);
  const loss = softmaxStep(heap, S, nA, nT, nTp, positive, weight, 1 / temperature);

  const gA = heap.matrix(nAp, P);
  heap.gemm(nAp, P, nTp, S, T, gA);
  const gAHat = heap.f32(gA.at, nAp * P);
  for (let a = 0; a < nA; a++) normalizeBackward(aHat, a * P, aNorm[a], gAHat, a * P, grads.anchors, a * dim, dim);
  if (grads.targets) {
    const gT = heap.matrix(nTp, P);
    heap.gemm(nTp, P, nAp, { at: S.at, row: 1, col: nTp }, A, gT);
    const gTHat = heap.f32(gT.at, nTp * P);
    const g = grads.targets;
    for (let j = 0; j < nT; j++) {
      if (input.normalizeTargets) normalizeBackward(tHat, j * P, tNorm[j], gTHat, j * P, g, j * dim, dim);
      else for (let f = 0; f < dim; f++) g[j * dim + f] += gTHat[j * P + f];
    }
  }
  return loss;
}

/**
 * Turns the logits S/τ (S [nAp, nTp], raw dot products) into G, G[a, j] = w_a (softmax_j − [j = p_a]) / τ,
 * zero on padding rows and columns (the heap's softmax kernel), and returns the weighted loss
 * Σ_a w_a (log Σ_j exp(S[a, j]/τ) − S[a, p_a]/τ), summed here in double precision.
 */
function softmaxStep(heap: KernelHeap, S: HeapMatrix, nA: number, nT: number, nTp: number, positive: Int32Array, weight: Float32Array, invT: number): number {
  const s = heap.f32(S.at, nA * nTp);
  const sPos = new Float64Array(nA);
  for (let a = 0; a < nA; a++) {
    sPos[a] = s[a * nTp + positive[a]];
    s.fill(-Infinity, a * nTp + nT, (a + 1) * nTp);
  }
  const at = { weights: heap.alloc(4 * nA), positives: heap.alloc(4 * nA), sums: heap.alloc(4 * nA), maxes: heap.alloc(4 * nA) };
  heap.f32(at.weights, nA).set(weight);
  heap.i32(at.positives, nA).set(positive);
  heap.softmax(S, nA, nTp, invT, at.weights, at.positives, at.sums, at.maxes);
  const sums = heap.f32(at.sums, nA);
  const maxes = heap.f32(at.maxes, nA);
  let loss = 0;
  for (let a = 0; a < nA; a++) loss += weight[a] * ((maxes[a] - sPos[a]) * invT + Math.log(sums[a]));
  return loss;
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
