/**
 * DatasetBuilder: turns raw rows (user id, item id, optional rating, optional timestamp) into a
 * `Dataset`. Nothing in the result depends on the order of the rows (design/EVALUATION.md):
 *  - raw ids become dense ids in sorted raw-id order (as numbers when every id of that kind is
 *    numeric, else by UTF-16 code units), both directions kept;
 *  - interactions are listed by (dense user, dense item);
 *  - duplicate (user, item) pairs are merged: the latest timestamp wins with its rating, and on a
 *    tie (or without timestamps) the larger rating wins;
 *  - an optional rating threshold keeps only (merged) ratings >= threshold.
 */
import type { Dataset, SideInfo } from './types.js';

export interface DatasetBuilderOptions {
  /** Keep only pairs whose (merged) rating is >= this; requires ratings. */
  readonly ratingThreshold?: number;
}

export class DatasetBuilder {
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly itemIds: string[] = [];
  /** Per dense user: dense item → position of the merged pair. */
  private readonly pairAt: Array<Map<number, number>> = [];
  private users = new Int32Array(1024);
  private items = new Int32Array(1024);
  private ratings = new Float32Array(1024);
  private timestamps = new Float64Array(1024);
  private nPairs = 0;
  private nRows = 0;
  private hasRatings: boolean | null = null;
  private hasTimestamps: boolean | null = null;

  constructor(
    private readonly name: string,
    private readonly options: DatasetBuilderOptions = {},
  ) {
    const t = options.ratingThreshold;
    if (t !== undefined && !Number.isFinite(t)) throw new RangeError(`ratingThreshold must be a finite number, got ${t}`);
  }

  /** Adds one raw row. Every row must agree on whether it carries a rating and a timestamp. */
  add(userId: string, itemId: string, rating?: number, timestamp?: number): void {
    this.nRows++;
    this.hasRatings = this.checkPresence('rating', rating, this.hasRatings);
    this.hasTimestamps = this.checkPresence('timestamp', timestamp, this.hasTimestamps);
    const u = denseId(userId, this.userIndex, this.userIds);
    const i = denseId(itemId, this.itemIndex, this.itemIds);
    const pairsOfUser = this.pairAt[u] ?? (this.pairAt[u] = new Map());
    const at = pairsOfUser.get(i);
    if (at !== undefined) {
      // Latest timestamp wins; on a tie (or without timestamps) the larger rating: never the row order.
      const t = timestamp ?? 0;
      if (t > this.timestamps[at] || (t === this.timestamps[at] && (rating ?? 0) > this.ratings[at])) {
        this.ratings[at] = rating ?? 0;
        this.timestamps[at] = timestamp ?? 0;
      }
      return;
    }
    if (this.nPairs === this.users.length) this.grow();
    const k = this.nPairs++;
    pairsOfUser.set(i, k);
    this.users[k] = u;
    this.items[k] = i;
    this.ratings[k] = rating ?? 0;
    this.timestamps[k] = timestamp ?? 0;
  }

  /** The data set; with a rating threshold, users and items left without pairs are dropped. */
  build(side: SideInfo = {}): Dataset {
    const threshold = this.options.ratingThreshold;
    if (threshold !== undefined && this.hasRatings !== true) {
      throw new Error(`${this.name}: a rating threshold (${threshold}) was given but the data has no ratings`);
    }
    const keep: number[] = [];
    for (let k = 0; k < this.nPairs; k++) {
      if (threshold === undefined || this.ratings[k] >= threshold) keep.push(k);
    }
    if (keep.length === 0) {
      throw new Error(threshold === undefined ? `${this.name}: no interactions` : `${this.name}: no interaction has rating >= ${threshold}`);
    }
    const newUser = compactIds(this.users, keep, this.userIds);
    const newItem = compactIds(this.items, keep, this.itemIds);
    const n = keep.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const ratings = this.hasRatings ? new Float32Array(n) : null;
    const timestamps = this.hasTimestamps ? new Float64Array(n) : null;
    keep.sort((a, b) => newUser[this.users[a]] - newUser[this.users[b]] || newItem[this.items[a]] - newItem[this.items[b]]);
    keep.forEach((k, j) => {
      users[j] = newUser[this.users[k]];
      items[j] = newItem[this.items[k]];
      if (ratings) ratings[j] = this.ratings[k];
      if (timestamps) timestamps[j] = this.timestamps[k];
    });
    const userIds = keptIds(this.userIds, newUser);
    const itemIds = keptIds(this.itemIds, newItem);
    return {
      name: this.name,
      nUsers: userIds.length,
      nItems: itemIds.length,
      interactions: { users, items, ratings, timestamps },
      userIds,
      itemIds,
      userIndex: new Map(userIds.map((id, dense) => [id, dense])),
      itemIndex: new Map(itemIds.map((id, dense) => [id, dense])),
      side,
    };
  }

  private checkPresence(what: string, value: number | undefined, seen: boolean | null): boolean {
    const present = value !== undefined;
    if (seen !== null && seen !== present) {
      throw new Error(`${this.name}: row ${this.nRows} ${present ? 'has' : 'lacks'} a ${what} but earlier rows ${seen ? 'have' : 'lack'} one`);
    }
    if (present && !Number.isFinite(value)) throw new RangeError(`${this.name}: row ${this.nRows} has a non-finite ${what}`);
    return present;
  }

  private grow(): void {
    const size = this.users.length * 2;
    const widen = <T extends Int32Array | Float32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.users = widen(this.users, (n) => new Int32Array(n));
    this.items = widen(this.items, (n) => new Int32Array(n));
    this.ratings = widen(this.ratings, (n) => new Float32Array(n));
    this.timestamps = widen(this.timestamps, (n) => new Float64Array(n));
  }
}

function denseId(raw: string, index: Map<string, number>, ids: string[]): number {
  let dense = index.get(raw);
  if (dense === undefined) {
    dense = ids.length;
    index.set(raw, dense);
    ids.push(raw);
  }
  return dense;
}

/**
 * old dense id (order of first appearance) → new dense id in sorted raw-id order, or -1 when the
 * kept pairs do not use it.
 */
function compactIds(ids: Int32Array, keep: readonly number[], rawIds: readonly string[]): Int32Array {
  const nOld = rawIds.length;
  const used = new Uint8Array(nOld);
  for (const k of keep) used[ids[k]] = 1;
  const kept: number[] = [];
  for (let old = 0; old < nOld; old++) if (used[old]) kept.push(old);
  const compare = rawIdComparator(kept.map((old) => rawIds[old]));
  kept.sort((a, b) => compare(rawIds[a], rawIds[b]));
  const mapping = new Int32Array(nOld).fill(-1);
  kept.forEach((old, next) => (mapping[old] = next));
  return mapping;
}

function keptIds(rawIds: readonly string[], mapping: Int32Array): string[] {
  const out: string[] = [];
  rawIds.forEach((id, old) => {
    if (mapping[old] >= 0) out[mapping[old]] = id;
  });
  return out;
}

const NUMERIC_ID = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The order of raw ids: as numbers when every id given is numeric (ties such as '7' / '07' by the
 * string), else by UTF-16 code units (never locale-dependent).
 */
export function rawIdComparator(ids: readonly string[]): (a: string, b: string) => number {
  const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  if (!ids.every((id) => NUMERIC_ID.test(id))) return byString;
  return (a, b) => Number(a) - Number(b) || byString(a, b);
}
