/**
 * Top-K ranking evaluation of a Scorer on one part (validation or test) of an ImplicitSplit,
 * following EVALUATION.md:
 * - `sampled` (NCF): each held-out positive is ranked against the user's fixed evaluation negatives
 *   `split.negatives[part]`; metrics are averaged over (user, positive) pairs.
 * - `full` (RecBole): the candidates are all items outside the user's TRAIN items (and, at test,
 *   outside the validation items); each held-out positive is ranked against every other candidate,
 *   other positives included; metrics are averaged over users with ≥ 1 held-out positive.
 * Ranks are tie-fair (see ranks.ts). One scoreItems call per user and protocol; buffers are reused.
 */
import type { EvalPart, ImplicitSplit, UserItems } from '../data/types.js';
import { rankingMetrics } from './metrics.js';
import { ranksAmong, ranksWithin } from './ranks.js';
import type { MetricMap, Protocol, RankingResult, Scorer } from './types.js';

export interface RankingOptions {
  readonly part: EvalPart;
  readonly protocols: readonly Protocol[];
  /** Cutoffs K, e.g. [10] or [5, 10, 20]. */
  readonly ks: readonly number[];
  /** Evaluate only these dense user ids (default: all users). */
  readonly users?: Int32Array;
}

export function evaluateRanking(scorer: Scorer, split: ImplicitSplit, opts: RankingOptions): RankingResult {
  if (scorer.nItems !== split.nItems) {
    throw new Error(`evaluateRanking: scorer has ${scorer.nItems} items, split has ${split.nItems}`);
  }
  if (opts.ks.length === 0) throw new Error('evaluateRanking: no cutoff K given');
  const users = opts.users ?? allUsers(split.nUsers);
  for (const user of users) {
    if (user < 0 || user >= split.nUsers) throw new Error(`evaluateRanking: user ${user} out of range`);
  }
  const result: RankingResult = {};
  if (opts.protocols.includes('sampled')) result.sampled = sampledRanking(scorer, split, opts.part, users, opts.ks);
  if (opts.protocols.includes('full')) result.full = fullRanking(scorer, split, opts.part, users, opts.ks);
  return result;
}

function sampledRanking(
  scorer: Scorer,
  split: ImplicitSplit,
  part: EvalPart,
  users: Int32Array,
  ks: readonly number[],
): MetricMap {
  const heldOut = split[part];
  const negatives = split.negatives[part];
  const capacity = longestRow(heldOut) + longestRow(negatives);
  const items = new Int32Array(capacity);
  const scores = new Float32Array(capacity);
  const ranks = new Float64Array(longestRow(heldOut));
  const means = new MetricMeans(ks, `sampled ${part}`);
  for (const user of users) {
    const positives = row(heldOut, user);
    if (positives.length === 0) continue;
    const userNegatives = row(negatives, user);
    if (userNegatives.length === 0) {
      throw new Error(`sampled ranking: user ${user} has held-out positives but no ${part} negatives`);
    }
    const nPositives = positives.length;
    const n = nPositives + userNegatives.length;
    items.set(positives, 0);
    items.set(userNegatives, nPositives);
    scorer.scoreItems(user, items.subarray(0, n), scores.subarray(0, n));
    ranksAmong(scores.subarray(0, nPositives), scores.subarray(nPositives, n), ranks);
    for (let j = 0; j < nPositives; j++) means.add(ranks.subarray(j, j + 1));
  }
  return means.mean();
}

function fullRanking(
  scorer: Scorer,
  split: ImplicitSplit,
  part: EvalPart,
  users: Int32Array,
  ks: readonly number[],
): MetricMap {
  const heldOut = split[part];
  const nItems = split.nItems;
  // Per-item marks stamped with the current user id, so they never need clearing.
  const excludedFor = new Int32Array(nItems).fill(-1);
  const positiveFor = new Int32Array(nItems).fill(-1);
  const candidates = new Int32Array(nItems);
  const scores = new Float32Array(nItems);
  const ranks = new Float64Array(longestRow(heldOut));
  const means = new MetricMeans(ks, `full ${part}`);
  for (const user of users) {
    const positives = row(heldOut, user);
    if (positives.length === 0) continue;
    for (const item of row(split.train, user)) excludedFor[item] = user;
    if (part === 'test') for (const item of row(split.validation, user)) excludedFor[item] = user;
    let n = 0;
    for (const item of positives) {
      if (excludedFor[item] === user) {
        throw new Error(`full ranking: held-out item ${item} of user ${user} is also an excluded (train) item`);
      }
      positiveFor[item] = user;
      candidates[n++] = item;
    }
    const nPositives = n;
    for (let item = 0; item < nItems; item++) {
      if (excludedFor[item] !== user && positiveFor[item] !== user) candidates[n++] = item;
    }
    scorer.scoreItems(user, candidates.subarray(0, n), scores.subarray(0, n));
    ranksWithin(scores.subarray(0, n), nPositives, ranks);
    means.add(ranks.subarray(0, nPositives));
  }
  return means.mean();
}

/** Running mean of per-evaluation metric maps. */
class MetricMeans {
  private readonly sums: MetricMap = {};
  private count = 0;

  constructor(
    private readonly ks: readonly number[],
    private readonly label: string,
  ) {}

  add(ranks: Float64Array): void {
    const metrics = rankingMetrics(ranks, this.ks);
    for (const name in metrics) this.sums[name] = (this.sums[name] ?? 0) + metrics[name];
    this.count++;
  }

  mean(): MetricMap {
    if (this.count === 0) throw new Error(`${this.label}: no user has held-out positives to evaluate`);
    const means: MetricMap = {};
    for (const name in this.sums) means[name] = this.sums[name] / this.count;
    return means;
  }
}

/** Items of `user` in compressed rows (a view, no copy). */
function row(rows: UserItems, user: number): Int32Array {
  return rows.indices.subarray(rows.indptr[user], rows.indptr[user + 1]);
}

function longestRow(rows: UserItems): number {
  let longest = 0;
  for (let u = 0; u + 1 < rows.indptr.length; u++) longest = Math.max(longest, rows.indptr[u + 1] - rows.indptr[u]);
  return longest;
}

function allUsers(nUsers: number): Int32Array {
  const users = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) users[u] = u;
  return users;
}
