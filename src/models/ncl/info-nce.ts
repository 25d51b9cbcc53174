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

/**
 * Scratch buffers of `infoNce`, grown on demand and reused across calls (a trainer calls the
 * kernel several times per minibatch; nothing is allocated once the largest shapes were seen).
 */
export class InfoNceWorkspace {
  private readonly buffers = new Map<string, Float32Array>();

  get(name: string, size: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length < size) {
      b = new Float32Array(Math.max(size, Math.ceil((b?.length ?? 0) * 1.25)));
      this.buffers.set(name, b);
    }
    return b;
  }
}

const sharedWorkspace = new InfoNceWorkspace();

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Weighted sum of the anchors' InfoNCE terms; gradients are added into `grads`.
 * The three products (logits Â·T̂ᵀ, ∂/∂Â = G·T̂, ∂/∂T̂ = Gᵀ·Â, G the logit gradients) run as
 * 4×4 register-blocked kernels over copies zero-padded to multiples of 4 (rows and columns), so
 * the inner loops have no tails; padded rows and columns carry zero gradient.
 */
export function infoNce(input: InfoNceInput, grads: InfoNceGrads, ws: InfoNceWorkspace = sharedWorkspace): number {
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
  const P = pad4(dim);
  const nAp = pad4(nA);
  const nTp = pad4(nT);
  const A = ws.get('A', nAp * P);
  const T = ws.get('T', nTp * P);
  const aNorm = ws.get('aNorm', nAp);
  const tNorm = ws.get('tNorm', nTp);
  const S = ws.get('S', nAp * nTp);
  padRows(anchors, nA, dim, P, nAp, A, aNorm, true);
  padRows(targets, nT, dim, P, nTp, T, tNorm, input.normalizeTargets);
  const invT = 1 / temperature;

  logits(A, T, S, nAp, nTp, P, invT);

  // Row softmax → loss; S becomes G: G[a, j] = w_a (softmax_j − [j = p_a]) / τ, zero on padding.
  let loss = 0;
  for (let a = 0; a < nAp; a++) {
    const ro = a * nTp;
    const w = a < nA ? weight[a] : 0;
    if (w === 0) {
      S.fill(0, ro, ro + nTp);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < nT; j++) if (S[ro + j] > max) max = S[ro + j];
    const p = positive[a];
    const sPos = S[ro + p];
    let sum = 0;
    for (let j = 0; j < nT; j++) {
      const e = Math.exp(S[ro + j] - max);
      S[ro + j] = e;
      sum += e;
    }
    loss += w * (max + Math.log(sum) - sPos);
    const scale = (w * invT) / sum;
    for (let j = 0; j < nT; j++) S[ro + j] *= scale;
    S[ro + p] -= w * invT;
    for (let j = nT; j < nTp; j++) S[ro + j] = 0;
  }

  const gAHat = ws.get('gA', nAp * P);
  gradAnchors(S, T, gAHat, nAp, nTp, P);
  for (let a = 0; a < nA; a++) normalizeBackward(A, a * P, aNorm[a], gAHat, a * P, grads.anchors, a * dim, dim);
  if (grads.targets) {
    const gTHat = ws.get('gT', nTp * P);
    gradTargets(S, A, gTHat, nAp, nTp, P);
    const gT = grads.targets;
    for (let j = 0; j < nT; j++) {
      if (input.normalizeTargets) normalizeBackward(T, j * P, tNorm[j], gTHat, j * P, gT, j * dim, dim);
      else for (let f = 0; f < dim; f++) gT[j * dim + f] += gTHat[j * P + f];
    }
  }
  return loss;
}

/** out[rows_p, P] ← x [rows, dim] (normalised when asked, norms into `norms`), zero-padded. */
function padRows(x: Float32Array, rows: number, dim: number, P: number, rowsP: number, out: Float32Array, norms: Float32Array, normalize: boolean): void {
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

/** S[a, j] = invT · A[a]·T[j] for padded A [nAp, P], T [nTp, P]. */
function logits(A: Float32Array, T: Float32Array, S: Float32Array, nAp: number, nTp: number, P: number, invT: number): void {
  for (let a = 0; a < nAp; a += 4) {
    const a0 = a * P, a1 = a0 + P, a2 = a1 + P, a3 = a2 + P;
    for (let j = 0; j < nTp; j += 4) {
      const t0 = j * P, t1 = t0 + P, t2 = t1 + P, t3 = t2 + P;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let f = 0; f < P; f++) {
        const x0 = A[a0 + f], x1 = A[a1 + f], x2 = A[a2 + f], x3 = A[a3 + f];
        const y0 = T[t0 + f], y1 = T[t1 + f], y2 = T[t2 + f], y3 = T[t3 + f];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const r0 = a * nTp + j, r1 = r0 + nTp, r2 = r1 + nTp, r3 = r2 + nTp;
      S[r0] = s00 * invT; S[r0 + 1] = s01 * invT; S[r0 + 2] = s02 * invT; S[r0 + 3] = s03 * invT;
      S[r1] = s10 * invT; S[r1 + 1] = s11 * invT; S[r1 + 2] = s12 * invT; S[r1 + 3] = s13 * invT;
      S[r2] = s20 * invT; S[r2 + 1] = s21 * invT; S[r2 + 2] = s22 * invT; S[r2 + 3] = s23 * invT;
      S[r3] = s30 * invT; S[r3 + 1] = s31 * invT; S[r3 + 2] = s32 * invT; S[r3 + 3] = s33 * invT;
    }
  }
}

/** gA[a] = Σ_j G[a, j] · T[j] (overwrites gA [nAp, P]). */
function gradAnchors(G: Float32Array, T: Float32Array, gA: Float32Array, nAp: number, nTp: number, P: number): void {
  for (let a = 0; a < nAp; a += 4) {
    const g0 = a * nTp, g1 = g0 + nTp, g2 = g1 + nTp, g3 = g2 + nTp;
    for (let f = 0; f < P; f += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let j = 0, t = f; j < nTp; j++, t += P) {
        const x0 = G[g0 + j], x1 = G[g1 + j], x2 = G[g2 + j], x3 = G[g3 + j];
        const y0 = T[t], y1 = T[t + 1], y2 = T[t + 2], y3 = T[t + 3];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const r0 = a * P + f, r1 = r0 + P, r2 = r1 + P, r3 = r2 + P;
      gA[r0] = s00; gA[r0 + 1] = s01; gA[r0 + 2] = s02; gA[r0 + 3] = s03;
      gA[r1] = s10; gA[r1 + 1] = s11; gA[r1 + 2] = s12; gA[r1 + 3] = s13;
      gA[r2] = s20; gA[r2 + 1] = s21; gA[r2 + 2] = s22; gA[r2 + 3] = s23;
      gA[r3] = s30; gA[r3 + 1] = s31; gA[r3 + 2] = s32; gA[r3 + 3] = s33;
    }
  }
}

/** gT[j] = Σ_a G[a, j] · A[a] (overwrites gT [nTp, P]). */
function gradTargets(G: Float32Array, A: Float32Array, gT: Float32Array, nAp: number, nTp: number, P: number): void {
  for (let j = 0; j < nTp; j += 4) {
    for (let f = 0; f < P; f += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let a = 0, g = j, x = f; a < nAp; a++, g += nTp, x += P) {
        const x0 = G[g], x1 = G[g + 1], x2 = G[g + 2], x3 = G[g + 3];
        const y0 = A[x], y1 = A[x + 1], y2 = A[x + 2], y3 = A[x + 3];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const r0 = j * P + f, r1 = r0 + P, r2 = r1 + P, r3 = r2 + P;
      gT[r0] = s00; gT[r0 + 1] = s01; gT[r0 + 2] = s02; gT[r0 + 3] = s03;
      gT[r1] = s10; gT[r1 + 1] = s11; gT[r1 + 2] = s12; gT[r1 + 3] = s13;
      gT[r2] = s20; gT[r2 + 1] = s21; gT[r2 + 2] = s22; gT[r2 + 3] = s23;
      gT[r3] = s30; gT[r3 + 1] = s31; gT[r3 + 2] = s32; gT[r3 + 3] = s33;
    }
  }
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

/** gX[xo2..] += (g − x̂ (x̂·g)) / ‖x‖ : the backward of x̂ = x/‖x‖ for one row (x̂, g padded rows). */
function normalizeBackward(xHat: Float32Array, xo: number, norm: number, g: Float32Array, go: number, gX: Float32Array, outo: number, dim: number): void {
  let proj = 0;
  for (let f = 0; f < dim; f++) proj += xHat[xo + f] * g[go + f];
  const inv = 1 / norm;
  for (let f = 0; f < dim; f++) gX[outo + f] += (g[go + f] - xHat[xo + f] * proj) * inv;
}
