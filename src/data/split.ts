/**
 * Train / validation / test splits for ranking evaluation (see design/EVALUATION.md):
 *   leaveOneOut  per user, latest interaction (ties: larger raw item id) = test, second latest =
 *                validation, rest = train; without timestamps, drawn (seeded) from the user's
 *                items in raw-id order. Dense ids follow raw-id order (builder.ts), so no split
 *                depends on the order of the rows (docs/evaluation.md).
 *                Users with fewer than 3 interactions keep everything in train.
 *   ratioSplit   per user, shuffle (seeded) or order by time, cut by ratios (RecBole style).
 *   userSplit    user ids into train / validation / test users (for unseen-user evaluation).
 * Each ImplicitSplit carries fixed evaluation negatives (see eval-negatives.ts).
 */
import { Rng } from '../math/rng.js';
import { drawEvaluationNegatives } from './eval-negatives.js';
import { recencyRanks } from './recency.js';
import { buildUserItems, rowOf } from './user-items.js';
import type { Dataset, EvalPart, ImplicitSplit, SplitMethod, UserItems } from './types.js';

export interface LeaveOneOutOptions {
  readonly seed: number;
  /** Evaluation negatives per user and part; default 99. */
  readonly negatives?: number;
}

export interface RatioSplitOptions {
  /** [train, validation, test], positive, summing to 1. */
  readonly ratios: readonly number[];
  readonly seed: number;
  /** Evaluation negatives per user and part; default 99. */
  readonly negatives?: number;
  /** Cut each user's interactions in time order instead of a seeded shuffle. */
  readonly byTime?: boolean;
}

/** Dense user ids of each part, ascending. */
export interface UserSplit {
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
}

const DEFAULT_NEGATIVES = 99;

/** Part of each interaction, as stored in a Uint8Array. */
const Part = { Train: 0, Validation: 1, Test: 2 } as const;
type Part = (typeof Part)[keyof typeof Part];

export function leaveOneOut(ds: Dataset, opts: LeaveOneOutOptions): ImplicitSplit {
  checkSeed(opts.seed);
  const { timestamps } = ds.interactions;
  const items = ds.interactions.items;
  const byUser = interactionsByUser(ds);
  const parts = new Uint8Array(items.length); // all Part.Train
  const rng = Rng.derive(opts.seed, 'leave-one-out');
  for (let u = 0; u < ds.nUsers; u++) {
    const own = byUser.positions.subarray(byUser.indptr[u], byUser.indptr[u + 1]);
    if (own.length < 3) continue;
    if (timestamps) {
      const later = (a: number, b: number): boolean =>
        timestamps[a] > timestamps[b] || (timestamps[a] === timestamps[b] && items[a] > items[b]);
      let latest = own[0];
      let second = -1;
      for (let j = 1; j < own.length; j++) {
        const k = own[j];
        if (later(k, latest)) {
          second = latest;
          latest = k;
        } else if (second < 0 || later(k, second)) {
          second = k;
        }
      }
      parts[latest] = Part.Test;
      parts[second] = Part.Validation;
    } else {
      const testAt = rng.int(own.length);
      const validationAt = (testAt + 1 + rng.int(own.length - 1)) % own.length;
      parts[own[testAt]] = Part.Test;
      parts[own[validationAt]] = Part.Validation;
    }
  }
  return assemble(ds, parts, timestamps ? 'leave-one-out-time' : 'leave-one-out-random', opts.seed, opts.negatives);
}

export function ratioSplit(ds: Dataset, opts: RatioSplitOptions): ImplicitSplit {
  checkSeed(opts.seed);
  checkRatios(opts.ratios);
  const { timestamps, items } = ds.interactions;
  if (opts.byTime && !timestamps) throw new Error(`ratioSplit: byTime needs timestamps, but ${ds.name} has none`);
  const byUser = interactionsByUser(ds);
  const parts = new Uint8Array(items.length);
  const rng = Rng.derive(opts.seed, 'ratio-split');
  for (let u = 0; u < ds.nUsers; u++) {
    const own = byUser.positions.slice(byUser.indptr[u], byUser.indptr[u + 1]);
    if (opts.byTime && timestamps) own.sort((a, b) => timestamps[a] - timestamps[b] || items[a] - items[b]);
    else rng.shuffle(own);
    const [nTrain, nValidation] = partSizes(own.length, opts.ratios);
    own.forEach((k, j) => {
      parts[k] = j < nTrain ? Part.Train : j < nTrain + nValidation ? Part.Validation : Part.Test;
    });
  }
  return assemble(ds, parts, 'ratio', opts.seed, opts.negatives);
}

/** Shuffles user ids 0..nUsers-1 (seeded) and cuts them by ratios; each part ascending. */
export function userSplit(nUsers: number, ratios: readonly number[], seed: number): UserSplit {
  if (!Number.isInteger(nUsers) || nUsers < 0) throw new RangeError(`userSplit: nUsers must be a non-negative integer, got ${nUsers}`);
  checkRatios(ratios);
  checkSeed(seed);
  const order = Rng.derive(seed, 'user-split').shuffle(Int32Array.from({ length: nUsers }, (_, u) => u));
  const nValidation = Math.round(nUsers * ratios[1]);
  const nTest = Math.round(nUsers * ratios[2]);
  const nTrain = nUsers - nValidation - nTest;
  return {
    train: order.slice(0, nTrain).sort(),
    validation: order.slice(nTrain, nTrain + nValidation).sort(),
    test: order.slice(nTrain + nValidation).sort(),
  };
}

/**
 * RecBole's per-user cut: floor(ratio · n) for validation and test, the rest to train; then, while
 * train keeps more than one, a part whose share is below one interaction gets one.
 */
function partSizes(n: number, ratios: readonly number[]): [number, number, number] {
  const sizes: [number, number, number] = [0, Math.floor(ratios[1] * n), Math.floor(ratios[2] * n)];
  sizes[0] = n - sizes[1] - sizes[2];
  for (const part of [2, 1] as const) {
    if (sizes[0] <= 1) break;
    const share = ratios[part] * n;
    if (share > 0 && share < 1) {
      sizes[part]++;
      sizes[0]--;
    }
  }
  return sizes;
}

/**
 * Interaction positions grouped by user: user u's are positions[indptr[u] .. indptr[u+1]), ordered
 * by dense item id (= raw item id order, see builder.ts), never by the order of the rows.
 */
function interactionsByUser(ds: Dataset): { indptr: Int32Array; positions: Int32Array } {
  const { users, items } = ds.interactions;
  const indptr = new Int32Array(ds.nUsers + 1);
  for (let k = 0; k < users.length; k++) indptr[users[k] + 1]++;
  for (let u = 0; u < ds.nUsers; u++) indptr[u + 1] += indptr[u];
  const next = indptr.slice(0, ds.nUsers);
  const positions = new Int32Array(users.length);
  for (let k = 0; k < users.length; k++) positions[next[users[k]]++] = k;
  for (let u = 0; u < ds.nUsers; u++) positions.subarray(indptr[u], indptr[u + 1]).sort((a, b) => items[a] - items[b]);
  return { indptr, positions };
}

/** Builds the split from each interaction's part, with evaluation negatives for both parts. */
function assemble(ds: Dataset, parts: Uint8Array, method: SplitMethod, seed: number, negatives = DEFAULT_NEGATIVES): ImplicitSplit {
  if (!Number.isInteger(negatives) || negatives < 0) throw new RangeError(`negatives must be a non-negative integer, got ${negatives}`);
  return splitFromParts(ds, parts, method, seed, negatives);
}

/**
 * A split from each interaction's part (0 train, 1 validation, 2 test, aligned with
 * `ds.interactions`) and either given evaluation negatives (split files) or a count to draw.
 */
export function splitFromParts(
  ds: Dataset,
  parts: Uint8Array,
  method: SplitMethod,
  seed: number,
  negatives: number | Readonly<Record<EvalPart, UserItems>>,
): ImplicitSplit {
  const { users, items, ratings } = ds.interactions;
  const partOf = (part: Part): UserItems => {
    const keep: number[] = [];
    for (let k = 0; k < parts.length; k++) if (parts[k] === part) keep.push(k);
    return buildUserItems(
      ds.nUsers,
      Int32Array.from(keep, (k) => users[k]),
      Int32Array.from(keep, (k) => items[k]),
      ratings ? Float32Array.from(keep, (k) => ratings[k]) : null,
    );
  };
  const train = partOf(Part.Train);
  const trainRecency = ds.interactions.timestamps ? recencyOfRows(ds, parts, train) : null;
  const validation = partOf(Part.Validation);
  const test = partOf(Part.Test);
  const all = buildUserItems(ds.nUsers, users, items);
  const drawn = (heldOut: UserItems, part: EvalPart): UserItems =>
    drawEvaluationNegatives({ all, heldOut, nItems: ds.nItems, count: negatives as number, rng: Rng.derive(seed, 'eval-negatives', part) });
  return {
    method,
    seed,
    nUsers: ds.nUsers,
    nItems: ds.nItems,
    train,
    trainRecency,
    validation,
    test,
    negatives: typeof negatives === 'number' ? { validation: drawn(validation, 'validation'), test: drawn(test, 'test') } : negatives,
  };
}

/** Recency rank of every train entry within its user's row (see train/recency.ts). */
function recencyOfRows(ds: Dataset, parts: Uint8Array, train: UserItems): Int32Array {
  const { users, items, timestamps } = ds.interactions;
  const timeOf = new Map<number, number>();
  for (let k = 0; k < parts.length; k++) if (parts[k] === Part.Train) timeOf.set(users[k] * ds.nItems + items[k], timestamps![k]);
  const out = new Int32Array(train.indices.length);
  for (let u = 0; u < ds.nUsers; u++) {
    const row = rowOf(train, u);
    const times = Array.from(row, (item) => timeOf.get(u * ds.nItems + item)!);
    out.set(recencyRanks(row, times), train.indptr[u]);
  }
  return out;
}

function checkSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
}

function checkRatios(ratios: readonly number[]): void {
  if (ratios.length !== 3) throw new RangeError(`ratios must have 3 entries (train, validation, test), got ${ratios.length}`);
  if (!ratios.every((r) => Number.isFinite(r) && r > 0)) throw new RangeError(`ratios must all be positive, got [${ratios.join(', ')}]`);
  const sum = ratios[0] + ratios[1] + ratios[2];
  if (Math.abs(sum - 1) > 1e-6) throw new RangeError(`ratios must sum to 1, got [${ratios.join(', ')}] (sum ${sum})`);
}

/**
 * The split with `positives` (per user, duplicates merged) as its train set and no recency ranks:
 * for shuffled-label guards, whose samplers must exclude the labels trained on, as a real run does.
 */
export function withTrainSet(split: ImplicitSplit, positives: ReadonlyArray<{ readonly user: number; readonly items: Int32Array }>): ImplicitSplit {
  const users: number[] = [];
  const items: number[] = [];
  for (const { user, items: own } of positives) {
    for (const item of new Set(own)) {
      users.push(user);
      items.push(item);
    }
  }
  return { ...split, train: buildUserItems(split.nUsers, Int32Array.from(users), Int32Array.from(items)), trainRecency: null };
}
