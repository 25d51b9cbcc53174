/**
 * Training negatives: uniform draws (with replacement across draws) from the items a user may be
 * trained against. What is excluded depends on the split, so that training treats every candidate
 * of the split's main protocol alike:
 *  - leave-one-out (sampled protocol): the user's positives (train, validation, test) and its
 *    evaluation negatives. The held-out positive and its 99 negatives are then all untouched by
 *    training: a model trained on shuffled labels scores exactly at chance. (Drawing held-out
 *    positives while protecting evaluation negatives pushes held-out items below their negatives:
 *    measured HR@10 0.045 instead of 0.10 on shuffled labels.)
 *  - ratio split (full-ranking protocol, as RecBole): the user's train positives and evaluation
 *    negatives only. Held-out positives can be drawn like every other full-ranking candidate, so
 *    protecting them cannot inflate full-ranking metrics.
 * In both, no evaluation negative is ever a training example (EVALUATION.md leakage guard).
 * Rejection sampling against the exclusion set: a bitset per user for one user's sampler (the
 * federated client's hot path), binary search in a sorted list for the all-users sampler.
 *
 * `NegativeSampler` serves every user of a split; `NegativeSampler.forClient` builds the same
 * sampler for one user from that client's own data only (federated clients have no global view).
 */
import type { Rng } from '../math/rng.js';
import { sortedRangeHas } from './user-items.js';
import type { ImplicitSplit, UserItems } from './types.js';

/** Samples training negatives for one user. */
export class UserNegativeSampler {
  /** Sorted, distinct items never returned. */
  readonly exclusion: Int32Array;
  /** Bit `item` set when the item is excluded: one word per 32 items. */
  private readonly excludedBits: Int32Array;

  constructor(
    readonly nItems: number,
    excludedItems: Int32Array,
  ) {
    this.exclusion = sortedDistinct(excludedItems);
    this.excludedBits = new Int32Array((nItems + 31) >>> 5);
    for (const item of this.exclusion) {
      if (item < 0 || item >= nItems) throw new RangeError(`excluded item ${item} outside [0, ${nItems})`);
      this.excludedBits[item >>> 5] |= 1 << (item & 31);
    }
  }

  /**
   * Writes `count` negatives into out[offset .. offset+count); the same draws as the all-users
   * sampler for this user (same stream, same rejections).
   */
  sample(count: number, rng: Rng, out: Int32Array, offset = 0): void {
    if (count <= 0) return;
    checkDraw(this.nItems, this.exclusion.length, count, out, offset);
    const bits = this.excludedBits;
    for (let j = 0; j < count; j++) {
      let item: number;
      do item = rng.int(this.nItems);
      while ((bits[item >>> 5] & (1 << (item & 31))) !== 0);
      out[offset + j] = item;
    }
  }
}

/** The per-user item lists a split's training negatives must avoid (besides train positives). */
export function heldOutExclusionSources(split: ImplicitSplit): UserItems[] {
  const evaluationNegatives = [split.negatives.validation, split.negatives.test];
  return split.method === 'ratio' ? evaluationNegatives : [split.validation, split.test, ...evaluationNegatives];
}

function trainingExclusionSources(split: ImplicitSplit): UserItems[] {
  return [split.train, ...heldOutExclusionSources(split)];
}

export class NegativeSampler {
  readonly nUsers: number;
  readonly nItems: number;
  /** Rows of sorted, distinct excluded items per user: [nUsers + 1] and [nnz]. */
  private readonly indptr: Int32Array;
  private readonly excluded: Int32Array;

  constructor(split: ImplicitSplit) {
    this.nUsers = split.nUsers;
    this.nItems = split.nItems;
    this.indptr = new Int32Array(this.nUsers + 1);
    const rows: Int32Array[] = [];
    for (let u = 0; u < this.nUsers; u++) {
      const row = sortedDistinct(concatRows(trainingExclusionSources(split), u));
      rows.push(row);
      this.indptr[u + 1] = this.indptr[u] + row.length;
    }
    this.excluded = new Int32Array(this.indptr[this.nUsers]);
    rows.forEach((row, u) => this.excluded.set(row, this.indptr[u]));
  }

  /**
   * A sampler for one user from only that client's data: its train positives and the items it
   * must not draw (held-out positives and evaluation negatives).
   */
  static forClient(nItems: number, trainItems: Int32Array, excluded: Int32Array): UserNegativeSampler {
    return new UserNegativeSampler(nItems, concat([trainItems, excluded]));
  }

  /** Writes `count` negatives for user `u` into out[offset .. offset+count). */
  sample(u: number, count: number, rng: Rng, out: Int32Array, offset = 0): void {
    this.checkUser(u);
    drawExcluding(this.nItems, this.excluded, this.indptr[u], this.indptr[u + 1], count, rng, out, offset);
  }

  /** The items user `u` never gets as a negative (sorted; a view). */
  exclusionOf(u: number): Int32Array {
    this.checkUser(u);
    return this.excluded.subarray(this.indptr[u], this.indptr[u + 1]);
  }

  /** The sampler of one user, detached from the others. */
  forUser(u: number): UserNegativeSampler {
    return new UserNegativeSampler(this.nItems, this.exclusionOf(u));
  }

  private checkUser(u: number): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.nUsers) throw new RangeError(`user ${u} outside [0, ${this.nUsers})`);
  }
}

/** Uniform draws from [0, nItems) minus the sorted slice excluded[lo..hi). */
function drawExcluding(
  nItems: number,
  excluded: Int32Array,
  lo: number,
  hi: number,
  count: number,
  rng: Rng,
  out: Int32Array,
  offset: number,
): void {
  if (count <= 0) return;
  checkDraw(nItems, hi - lo, count, out, offset);
  for (let j = 0; j < count; j++) {
    let item: number;
    do item = rng.int(nItems);
    while (sortedRangeHas(excluded, lo, hi, item));
    out[offset + j] = item;
  }
}

function checkDraw(nItems: number, excludedCount: number, count: number, out: Int32Array, offset: number): void {
  if (excludedCount >= nItems) throw new RangeError('no item left to sample as a negative: every item is excluded');
  if (offset < 0 || offset + count > out.length) throw new RangeError(`out has ${out.length} slots, need ${offset + count}`);
}

function concatRows(sources: readonly UserItems[], u: number): Int32Array {
  return concat(sources.map((ui) => ui.indices.subarray(ui.indptr[u], ui.indptr[u + 1])));
}

function concat(parts: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sortedDistinct(items: Int32Array): Int32Array {
  const sorted = Int32Array.from(items).sort();
  let n = 0;
  for (let j = 0; j < sorted.length; j++) if (j === 0 || sorted[j] !== sorted[j - 1]) sorted[n++] = sorted[j];
  return sorted.slice(0, n);
}
