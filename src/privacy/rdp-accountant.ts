/**
 * Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism (Mironov, Talwar & Zhang,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019), with the tight RDP → (ε, δ)
 * conversion of Balle et al. (AISTATS 2020) / Canonne, Kamath & Steinke (2020), as TensorFlow
 * Privacy's and Opacus's RDP accountants compute it, and the inverse (ε → noise multiplier).
 *
 * One step releases sum + N(0, z²C²) where each record (here: each user) joins the sum with
 * probability q and has its contribution clipped to norm C; add/remove-one neighbouring relation.
 * Everything is computed in log space: A_α is a sum of huge and tiny terms.
 */

/** The standard order grid (TF Privacy / Opacus): 1.1 … 10.9 in steps of 0.1, 12 … 63, then 128, 256, 512. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
  128,
  256,
  512,
];

/** log(exp(a) + exp(b)) without overflow. */
export function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (hi === -Infinity) return -Infinity;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(exp(a) − exp(b)) for a ≥ b. */
export function logSub(a: number, b: number): number {
  if (b > a) throw new Error(`logSub: the result would be negative (log values ${a} < ${b})`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = b - a;
  // log(1 − e^d): expm1 near 0, log1p for very negative d
  return a + (d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d)));
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log(erfc(x)), accurate to about 1e-12 relative for every x: the Maclaurin series of erf below 2,
 * the continued fraction of erfc above it (evaluated backwards, in log space so nothing underflows),
 * erfc(x) = 2 − erfc(−x) for negative x.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.log(1 - (2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** log A_α for integer α: a binomial expansion, every term positive. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  let logBinom = 0; // log C(α, i)
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/**
 * log A_α for fractional α: the two-sided series of Mironov et al. (Section 3.3), whose binomial
 * coefficients change sign, summed until both sides' terms fall below e^−30.
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logAbsCoef = 0; // log |C(α, i)|
  let sign = 1;
  for (let i = 0; ; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logAbsCoef += Math.log(Math.abs(factor));
      if (factor < 0) sign = -sign;
    }
    const j = alpha - i;
    const logT0 = logAbsCoef + i * logQ + j * log1mQ;
    const logT1 = logAbsCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30 || i > 100_000) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP of one step of the Poisson-subsampled Gaussian mechanism at order α (noise multiplier z). */
export function rdpSubsampledGaussian(q: number, z: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate must be in [0, 1], got ${q}`);
  if (!(z >= 0)) throw new RangeError(`noise multiplier must be ≥ 0, got ${z}`);
  if (!(alpha > 1)) throw new RangeError(`Rényi order must be > 1, got ${alpha}`);
  if (q === 0) return 0;
  if (z === 0) return Infinity;
  if (alpha === Infinity) return Infinity;
  if (q === 1) return alpha / (2 * z * z);
  const logA = Number.isInteger(alpha) ? logAInteger(q, z, alpha) : logAFractional(q, z, alpha);
  return logA / (alpha - 1);
}

/** RDP of `steps` compositions at each order. */
export function computeRdp(q: number, z: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  return orders.map((a) => rdpSubsampledGaussian(q, z, a) * steps);
}

/**
 * The smallest ε over the orders for a given δ, with the tight conversion
 * ε = rdp + log(1 − 1/α) − log(δ·α)/(α − 1) (Balle et al. 2020, Thm 21; Canonne et al. 2020),
 * and ε = 0 when δ already bounds the mechanism through its KL divergence (δ² ≥ 1 − e^−rdp).
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  let best = Infinity;
  let bestOrder = NaN;
  orders.forEach((a, k) => {
    const r = rdp[k];
    let eps: number;
    if (delta * delta + Math.expm1(-r) >= 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    if (Number.isNaN(eps)) eps = Infinity;
    eps = Math.max(0, eps);
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  });
  return { epsilon: best, order: bestOrder };
}

/** What an accounting question asks: `rounds` steps at sampling rate q and noise multiplier z. */
export interface PrivacyQuery {
  readonly samplingRate: number;
  readonly noiseMultiplier: number;
  readonly rounds: number;
  readonly delta: number;
  readonly orders?: readonly number[];
}

/** ε spent after `rounds` steps (Infinity without noise). */
export function epsilonOf(query: PrivacyQuery): { epsilon: number; order: number } {
  const orders = query.orders ?? DEFAULT_ORDERS;
  if (query.rounds === 0 || query.samplingRate === 0) return { epsilon: 0, order: NaN };
  return epsilonFromRdp(orders, computeRdp(query.samplingRate, query.noiseMultiplier, query.rounds, orders), query.delta);
}

/**
 * The smallest noise multiplier (to relative precision `tolerance`) whose ε after `rounds` steps is
 * at most `epsilon`, by bisection on z (ε decreases as z grows). The returned z always satisfies ε ≤ target.
 */
export function noiseMultiplierFor(
  target: { readonly epsilon: number; readonly samplingRate: number; readonly rounds: number; readonly delta: number; readonly orders?: readonly number[] },
  tolerance = 1e-6,
): number {
  if (!(target.epsilon > 0)) throw new RangeError(`target epsilon must be > 0, got ${target.epsilon}`);
  const eps = (z: number) => epsilonOf({ ...target, noiseMultiplier: z }).epsilon;
  let lo = 0;
  let hi = 1;
  while (eps(hi) > target.epsilon) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new RangeError(`no noise multiplier up to 1e6 reaches epsilon ${target.epsilon}`);
  }
  while (hi - lo > tolerance * hi) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > target.epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}
