/**
 * DatasetBuilder: turns raw rows (user id, item id, optional rating, optional timestamp) into a
 * `Dataset`. Raw ids become dense ids in order of first appearance (both directions kept);
 * duplicate (user, item) pairs are merged (the latest timestamp wins with its rating; without
 * timestamps the last row seen wins); an optional rating threshold keeps only ratings >= threshold.
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
      // Latest timestamp wins (ties: later row); without timestamps the later row wins.
      if (timestamp === undefined || timestamp >= this.timestamps[at]) {
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
    const newUser = compactIds(this.users, keep, this.userIds.length);
    const newItem = compactIds(this.items, keep, this.itemIds.length);
    const n = keep.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const ratings = this.hasRatings ? new Float32Array(n) : null;
    const timestamps = this.hasTimestamps ? new Float64Array(n) : null;
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

/** old dense id → new dense id (or -1 when unused by the kept pairs), preserving order. */
function compactIds(ids: Int32Array, keep: readonly number[], nOld: number): Int32Array {
  const used = new Uint8Array(nOld);
  for (const k of keep) used[ids[k]] = 1;
  const mapping = new Int32Array(nOld).fill(-1);
  let next = 0;
  for (let old = 0; old < nOld; old++) if (used[old]) mapping[old] = next++;
  return mapping;
}

function keptIds(rawIds: readonly string[], mapping: Int32Array): string[] {
  return rawIds.filter((_, old) => mapping[old] >= 0);
}
