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

/** Weighted sum of the anchors' InfoNCE terms; gradients are added into `grads`. */
export function infoNce(input: InfoNceInput, grads: InfoNceGrads): number {
  const { dim, anchors, targets, positive, weight, temperature } = input;
  const nAnchors = anchors.length / dim;
  const nTargets = targets.length / dim;
  if (!Number.isInteger(nAnchors) || !Number.isInteger(nTargets)) throw new RangeError(`infoNce: anchors/targets lengths are not multiples of dim ${dim}`);
  if (positive.length !== nAnchors || weight.length !== nAnchors) {
    throw new RangeError(`infoNce: ${nAnchors} anchors but ${positive.length} positives and ${weight.length} weights`);
  }
  if (!(temperature > 0)) throw new RangeError(`infoNce: temperature must be > 0, got ${temperature}`);
  if (grads.anchors.length !== anchors.length) throw new RangeError('infoNce: anchor gradient has the wrong length');
  if (grads.targets && grads.targets.length !== targets.length) throw new RangeError('infoNce: target gradient has the wrong length');

  const aNorm = new Float32Array(nAnchors);
  const aHat = normalizeRows(anchors, dim, aNorm);
  const tNorm = new Float32Array(nTargets);
  const tHat = input.normalizeTargets ? normalizeRows(targets, dim, tNorm) : targets;
  const gTHat = grads.targets ? new Float32Array(targets.length) : null;
  const gAHat = new Float32Array(dim);
  const logits = new Float64Array(nTargets);
  const invT = 1 / temperature;
  let loss = 0;
  for (let a = 0; a < nAnchors; a++) {
    const p = positive[a];
    if (!(p >= 0 && p < nTargets)) throw new RangeError(`infoNce: positive ${p} of anchor ${a} outside [0, ${nTargets})`);
    const w = weight[a];
    if (w === 0) continue;
    const ao = a * dim;
    let max = -Infinity;
    for (let j = 0; j < nTargets; j++) {
      const to = j * dim;
      let s = 0;
      for (let f = 0; f < dim; f++) s += aHat[ao + f] * tHat[to + f];
      s *= invT;
      logits[j] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let j = 0; j < nTargets; j++) sum += Math.exp(logits[j] - max);
    loss += w * (max + Math.log(sum) - logits[p]);
    // ∂loss/∂s_j = w (softmax_j − [j = p]) / τ
    gAHat.fill(0);
    const scale = (w * invT) / sum;
    for (let j = 0; j < nTargets; j++) {
      let g = scale * Math.exp(logits[j] - max);
      if (j === p) g -= w * invT;
      const to = j * dim;
      for (let f = 0; f < dim; f++) gAHat[f] += g * tHat[to + f];
      if (gTHat) for (let f = 0; f < dim; f++) gTHat[to + f] += g * aHat[ao + f];
    }
    normalizeBackward(aHat, ao, aNorm[a], gAHat, 0, grads.anchors, dim);
  }
  if (gTHat && grads.targets) {
    for (let j = 0; j < nTargets; j++) {
      if (input.normalizeTargets) normalizeBackward(tHat, j * dim, tNorm[j], gTHat, j * dim, grads.targets, dim);
      else for (let f = 0; f < dim; f++) grads.targets[j * dim + f] += gTHat[j * dim + f];
    }
  }
  return loss;
}

/** Row-normalised copy of x [rows, dim]; each row's norm (clamped at eps) goes into `norms`. */
export function normalizeRows(x: Float32Array, dim: number, norms: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0, o = 0; o < x.length; r++, o += dim) {
    let s = 0;
    for (let f = 0; f < dim; f++) s += x[o + f] * x[o + f];
    const n = Math.max(Math.sqrt(s), NORM_EPS);
    norms[r] = n;
    for (let f = 0; f < dim; f++) out[o + f] = x[o + f] / n;
  }
  return out;
}

/** gX[xo..] += (g − x̂ (x̂·g)) / ‖x‖ : the backward of x̂ = x/‖x‖ for one row. */
function normalizeBackward(xHat: Float32Array, xo: number, norm: number, g: Float32Array, go: number, gX: Float32Array, dim: number): void {
  let proj = 0;
  for (let f = 0; f < dim; f++) proj += xHat[xo + f] * g[go + f];
  const inv = 1 / norm;
  for (let f = 0; f < dim; f++) gX[xo + f] += (g[go + f] - xHat[xo + f] * proj) * inv;
}
