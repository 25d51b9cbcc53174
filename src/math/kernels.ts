/**
 * Pure numeric kernels over Float32Array. No model knowledge; shapes in comments; callers allocate.
 * Row-major storage throughout: a matrix [rows, cols] keeps row r at offset r*cols.
 */

/** dot(a[ao..ao+n], b[bo..bo+n]) */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/** y[yo..] += alpha * x[xo..] over n entries */
export function axpy(alpha: number, x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): void {
  for (let k = 0; k < n; k++) y[yo + k] += alpha * x[xo + k];
}

/** out[outRows=1, m] = x[1, n] · W[n, m] + b[m]  (dense layer forward for one example) */
export function denseForward(
  x: Float32Array, xo: number, n: number,
  w: Float32Array, b: Float32Array, m: number,
  out: Float32Array, oo: number,
): void {
  for (let j = 0; j < m; j++) out[oo + j] = b[j];
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    if (xi === 0) continue;
    const row = i * m;
    for (let j = 0; j < m; j++) out[oo + j] += xi * w[row + j];
  }
}

/**
 * Backward of denseForward for one example: gW[n, m] += xᵀ·gOut, gB[m] += gOut, and, when gX is
 * given, gX[n] = W · gOut.
 */
export function denseBackward(
  x: Float32Array, xo: number, n: number,
  w: Float32Array, m: number,
  gOut: Float32Array, go: number,
  gW: Float32Array, gB: Float32Array,
  gX: Float32Array | null, gxo: number,
): void {
  for (let j = 0; j < m; j++) gB[j] += gOut[go + j];
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const row = i * m;
    let acc = 0;
    for (let j = 0; j < m; j++) {
      const g = gOut[go + j];
      gW[row + j] += xi * g;
      acc += w[row + j] * g;
    }
    if (gX) gX[gxo + i] = acc;
  }
}

/** Numerically stable log(1 + exp(x)). */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Binary cross-entropy on a logit: loss and d loss / d logit, from one exponential (equal, bit for
 * bit, to softplus(logit) − label·logit and sigmoid(logit) − label).
 */
export function bceWithLogits(logit: number, label: number): { loss: number; grad: number } {
  const e = Math.exp(-Math.abs(logit));
  const softplusOf = logit > 0 ? logit + Math.log1p(e) : Math.log1p(e);
  const sigmoidOf = logit >= 0 ? 1 / (1 + e) : e / (1 + e);
  return { loss: softplusOf - label * logit, grad: sigmoidOf - label };
}

/** Loss of a pointwise objective at `score`: BCE-with-logits or squared error. */
export function pointwiseLoss(score: number, label: number, loss: 'bce' | 'mse'): number {
  if (loss === 'bce') return softplus(score) - label * score;
  const d = score - label;
  return d * d;
}

/** d loss / d score of a pointwise objective. */
export function pointwiseGrad(score: number, label: number, loss: 'bce' | 'mse'): number {
  return loss === 'bce' ? sigmoid(score) - label : 2 * (score - label);
}

/** Bayesian personalised ranking on a score difference d = s_pos - s_neg: loss and d loss / d d. */
export function bpr(diff: number): { loss: number; grad: number } {
  return { loss: softplus(-diff), grad: -sigmoid(-diff) };
}

/** Fill with N(0, std²) deviates drawn from `rng`. */
export function fillNormal(out: Float32Array, std: number, rng: { normal(): number }): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  return out;
}

/** Fill with U(-limit, limit) (Glorot/Xavier uniform when limit = sqrt(6/(fanIn+fanOut))). */
export function fillUniform(out: Float32Array, limit: number, rng: { next(): number }): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * limit;
  return out;
}

/** Euclidean norm of a vector. */
export function l2norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}
