/**
 * A synthetic implicit/explicit data set with real collaborative structure, shaped like MovieLens.
 *
 * Model: user factors p_u and item factors q_i ~ N(0, I_dim); item popularity follows a Zipf law
 * (weight ∝ rank^-popularitySkew over a random ranking). User u picks count_u distinct items by
 * sampling without replacement from softmax(p_u·q_i / (√dim·τ) + log popularity_i), done exactly
 * with Gumbel-top-k (add Gumbel noise to every logit, keep the k largest by quickselect):
 * O(users · items · dim), about a second for the ML-1M shape. Per-user counts are log-normal
 * (at least 5 each) and sum to `interactions`. Ratings 1..5 grow with p_u·q_i; timestamps are
 * spread over each user's active period. User side info (age, gender, occupation, zip, as in
 * ML-100K) is drawn from the user's factors, so text built from it carries signal.
 * Everything is drawn from `Rng.derive(seed, 'synthetic', ...)`: the same seed gives the same data.
 */
import { Rng } from '../math/rng.js';
import type { Dataset } from './types.js';

export interface SyntheticOptions {
  /** Default 943. */
  readonly users?: number;
  /** Default 1682. */
  readonly items?: number;
  /** Total interactions; default ≈106 per user (100,000 for 943 users), capped by the catalogue. */
  readonly interactions?: number;
  /** Latent dimension; default 8. */
  readonly dim?: number;
  /** Zipf exponent of item popularity; default 1.0 (0 = no popularity bias). */
  readonly popularitySkew?: number;
  /** Default 0. */
  readonly seed?: number;
  /** Explicit 1..5 ratings; default true. */
  readonly ratings?: boolean;
  /** Unix-second timestamps; default true. */
  readonly timestamps?: boolean;
}

const MIN_PER_USER = 5;
/** No user picks more than this share of the catalogue. */
const MAX_SHARE_PER_USER = 0.6;
const DEFAULT_PER_USER = 100_000 / 943;
/** Softmax temperature of the latent score (after scaling p·q to unit variance). */
const LATENT_TEMPERATURE = 0.4;
/** σ of log activity: per-user counts are log-normal. */
const ACTIVITY_SIGMA = 0.9;
const FIRST_TIMESTAMP = 874_724_710; // the first ML-100K timestamp
const DAY = 86_400;

/** ML-100K occupations (u.occupation). */
const OCCUPATIONS: readonly string[] = [
  'administrator', 'artist', 'doctor', 'educator', 'engineer', 'entertainment', 'executive', 'healthcare',
  'homemaker', 'lawyer', 'librarian', 'marketing', 'none', 'other', 'programmer', 'retired', 'salesman',
  'scientist', 'student', 'technician', 'writer',
];

export function generateSynthetic(opts: SyntheticOptions = {}): Dataset {
  const nUsers = positiveInteger('users', opts.users ?? 943);
  const nItems = positiveInteger('items', opts.items ?? 1682);
  const dim = positiveInteger('dim', opts.dim ?? 8);
  const seed = opts.seed ?? 0;
  const skew = opts.popularitySkew ?? 1.0;
  if (!Number.isFinite(skew) || skew < 0) throw new RangeError(`synthetic: popularitySkew must be >= 0, got ${skew}`);
  if (nItems < MIN_PER_USER) throw new RangeError(`synthetic: items must be at least ${MIN_PER_USER}, got ${nItems}`);
  const maxPerUser = Math.max(MIN_PER_USER, Math.floor(nItems * MAX_SHARE_PER_USER));
  const lo = MIN_PER_USER * nUsers;
  const hi = maxPerUser * nUsers;
  const total = opts.interactions ?? Math.min(hi, Math.max(lo, Math.round(nUsers * DEFAULT_PER_USER)));
  if (!Number.isInteger(total) || total < lo || total > hi) {
    throw new RangeError(`synthetic: interactions must be an integer in [${lo}, ${hi}] for ${nUsers} users and ${nItems} items, got ${total}`);
  }

  const userFactors = normalMatrix(nUsers, dim, Rng.derive(seed, 'synthetic', 'user-factors')); // [nUsers, dim]
  const itemFactors = normalMatrix(nItems, dim, Rng.derive(seed, 'synthetic', 'item-factors')); // [nItems, dim]
  const logPopularity = zipfLogWeights(nItems, skew, Rng.derive(seed, 'synthetic', 'popularity')); // [nItems]
  const counts = allocateCounts(total, nUsers, maxPerUser, Rng.derive(seed, 'synthetic', 'activity')); // [nUsers]

  const users = new Int32Array(total);
  const items = new Int32Array(total);
  const ratings = opts.ratings === false ? null : new Float32Array(total);
  const timestamps = opts.timestamps === false ? null : new Float64Array(total);
  const chooseRng = Rng.derive(seed, 'synthetic', 'choices');
  const ratingRng = Rng.derive(seed, 'synthetic', 'ratings');
  const timeRng = Rng.derive(seed, 'synthetic', 'timestamps');
  const keys = new Float64Array(nItems); // [nItems] Gumbel-perturbed logits of one user
  const order = new Int32Array(nItems);
  const affinity = new Float64Array(nItems); // [nItems] p_u·q_i / √dim
  const scale = 1 / Math.sqrt(dim);
  let at = 0;
  for (let u = 0; u < nUsers; u++) {
    const userRow = userFactors.subarray(u * dim, (u + 1) * dim);
    for (let i = 0, row = 0; i < nItems; i++, row += dim) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += userRow[d] * itemFactors[row + d];
      affinity[i] = s * scale;
      keys[i] = affinity[i] / LATENT_TEMPERATURE + logPopularity[i] + gumbel(chooseRng);
      order[i] = i;
    }
    const k = counts[u];
    selectLargest(keys, order, k);
    const chosen = order.subarray(0, k);
    const times = timestamps ? userTimestamps(k, timeRng) : null;
    const userBias = 0.4 * ratingRng.normal();
    for (let j = 0; j < k; j++) {
      users[at] = u;
      items[at] = chosen[j];
      if (ratings) ratings[at] = ratingOf(affinity[chosen[j]], userBias, ratingRng);
      if (timestamps && times) timestamps[at] = times[j];
      at++;
    }
  }

  const userIds = Array.from({ length: nUsers }, (_, u) => String(u + 1));
  const itemIds = Array.from({ length: nItems }, (_, i) => String(i + 1));
  return {
    name: 'synthetic',
    nUsers,
    nItems,
    interactions: { users, items, ratings, timestamps },
    userIds,
    itemIds,
    userIndex: new Map(userIds.map((id, u) => [id, u])),
    itemIndex: new Map(itemIds.map((id, i) => [id, i])),
    side: { users: userSideInfo(userIds, userFactors, dim, Rng.derive(seed, 'synthetic', 'side-info')) },
  };
}

function positiveInteger(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`synthetic: ${what} must be a positive integer, got ${value}`);
  return value;
}

function normalMatrix(rows: number, cols: number, rng: Rng): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let k = 0; k < m.length; k++) m[k] = rng.normal();
  return m;
}

/** log of Zipf weights rank^-skew (ranks 1..n assigned to items in random order). */
function zipfLogWeights(nItems: number, skew: number, rng: Rng): Float64Array {
  const rankOf = rng.shuffle(Int32Array.from({ length: nItems }, (_, i) => i + 1));
  return Float64Array.from(rankOf, (rank) => -skew * Math.log(rank));
}

/** Log-normal activity per user, at least MIN_PER_USER and at most maxPerUser, summing to total. */
function allocateCounts(total: number, nUsers: number, maxPerUser: number, rng: Rng): Int32Array {
  const weight = Float64Array.from({ length: nUsers }, () => Math.exp(ACTIVITY_SIGMA * rng.normal()));
  const counts = new Int32Array(nUsers).fill(MIN_PER_USER);
  let left = total - MIN_PER_USER * nUsers;
  while (left > 0) {
    let openWeight = 0;
    for (let u = 0; u < nUsers; u++) if (counts[u] < maxPerUser) openWeight += weight[u];
    let given = 0;
    for (let u = 0; u < nUsers; u++) {
      if (counts[u] >= maxPerUser) continue;
      const add = Math.min(maxPerUser - counts[u], Math.floor((left * weight[u]) / openWeight));
      counts[u] += add;
      given += add;
    }
    if (given === 0) {
      // Fewer units left than would round to one for anybody: one each, in order.
      for (let u = 0; u < nUsers && given < left; u++) {
        if (counts[u] < maxPerUser) {
          counts[u]++;
          given++;
        }
      }
    }
    left -= given;
  }
  return counts;
}

const GUMBEL_CELLS = 65_536;
/** Inverse Gumbel CDF -log(-log(x)) at x = j / GUMBEL_CELLS, j = 0..GUMBEL_CELLS (ends infinite). */
const GUMBEL_QUANTILES = Float64Array.from({ length: GUMBEL_CELLS + 1 }, (_, j) => -Math.log(-Math.log(j / GUMBEL_CELLS)));

/**
 * Standard Gumbel deviate by inverting its CDF: linear interpolation in a quantile table (the hot
 * path; two logarithms per draw would dominate the generator), exact logarithms in the two tail cells.
 */
function gumbel(rng: Rng): number {
  const x = rng.nextU32();
  const cell = x >>> 16;
  if (cell === 0 || cell === GUMBEL_CELLS - 1) return -Math.log(-Math.log((x + 0.5) / 4_294_967_296));
  const t = (x & 0xffff) / 65_536;
  return GUMBEL_QUANTILES[cell] + t * (GUMBEL_QUANTILES[cell + 1] - GUMBEL_QUANTILES[cell]);
}

/** Reorders `order` so its first k entries index the k largest keys (quickselect, in place). */
function selectLargest(keys: Float64Array, order: Int32Array, k: number): void {
  let lo = 0;
  let hi = order.length - 1;
  while (lo < hi) {
    const pivot = keys[order[(lo + hi) >>> 1]];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[order[i]] > pivot) i++;
      while (keys[order[j]] < pivot) j--;
      if (i <= j) {
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

/** Rating 1..5 rising with the user's affinity for the item. */
function ratingOf(affinity: number, userBias: number, rng: Rng): number {
  const raw = 2.5 + 0.8 * affinity + userBias + 0.6 * rng.normal();
  return Math.min(5, Math.max(1, Math.round(raw)));
}

/** k ascending Unix times inside one user's active period (start within ~7 months, length ~2 months). */
function userTimestamps(k: number, rng: Rng): Float64Array {
  const start = FIRST_TIMESTAMP + Math.floor(rng.next() * 210 * DAY);
  const span = Math.max(DAY, Math.floor(-Math.log(1 - rng.next()) * 60 * DAY));
  const times = Float64Array.from({ length: k }, () => start + Math.floor(rng.next() * span));
  return times.sort();
}

/** ML-100K-like demographics drawn from the user's factors (gender ~ p0, age ~ p1, zip region ~ p2, occupation ~ p). */
function userSideInfo(userIds: readonly string[], factors: Float64Array, dim: number, rng: Rng): Map<string, Record<string, string>> {
  const occupationDirections = normalMatrix(OCCUPATIONS.length, dim, rng); // [nOccupations, dim]
  const side = new Map<string, Record<string, string>>();
  userIds.forEach((id, u) => {
    const p = (d: number): number => factors[u * dim + (d % dim)];
    const gender = p(0) + 0.7 * rng.normal() > -0.6 ? 'M' : 'F';
    const age = Math.min(73, Math.max(7, Math.round(32 + 8 * p(1) + 5 * rng.normal())));
    let occupation = 0;
    let best = -Infinity;
    for (let o = 0; o < OCCUPATIONS.length; o++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += factors[u * dim + d] * occupationDirections[o * dim + d];
      const score = s / Math.sqrt(dim) + gumbel(rng);
      if (score > best) {
        best = score;
        occupation = o;
      }
    }
    const region = Math.min(9, Math.max(0, Math.floor(5 + 2.5 * (p(2) + 0.5 * rng.normal()))));
    const zip = `${region}${String(rng.int(10_000)).padStart(4, '0')}`;
    side.set(id, { age: String(age), gender, occupation: OCCUPATIONS[occupation], zip });
  });
  return side;
}
