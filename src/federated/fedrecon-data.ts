/**
 * The data of a Federated Reconstruction run (Singhal et al., NeurIPS 2021; EVALUATION.md "unseen
 * users"). Users are split into train / validation / test users (seeded `userSplit`). Only training
 * users become federated clients, each with all of its interactions. Evaluation users are never
 * trained on: at evaluation time each one reconstructs its local user tables from one part of its
 * data and is scored on another, disjoint part.
 *
 * Explicit feedback: an evaluation user's ratings, in a fixed seeded order, are divided by
 * `disjointSplit(alternateSplit)`: even positions reconstruct, odd positions are scored.
 *
 * Implicit feedback (top-K ranking for a brand-new user): the held-out items come from the per-user
 * split of EVALUATION.md (leave-one-out by time by default, or `ratio:`), computed over all users.
 *  - A validation user reconstructs from its TRAIN items and is ranked on its VALIDATION item;
 *    a test user reconstructs from its TRAIN and VALIDATION items and is ranked on its TEST item.
 *    So the reconstruction data is exactly the items the full protocol excludes from the candidates.
 *  - Sampled protocol: the held-out item against the split's 99 fixed evaluation negatives, drawn
 *    once (seeded) from the items the user never interacted with in the whole data set.
 *  - Full protocol: against every item outside the user's reconstruction data.
 *  - The reconstruction's training negatives exclude every item of the user (held-out ones too)
 *    and its evaluation negatives of both parts, so every candidate of the sampled protocol is
 *    treated alike by the reconstruction, as for FedAvg clients (federated/partition.ts).
 * Training users' held-out parts and evaluation negatives play no role: they train on everything.
 */
import { Rng } from '../math/rng.js';
import { buildUserItems, rowOf } from '../data/user-items.js';
import type { Dataset, EvalPart, ImplicitSplit, UserItems } from '../data/types.js';
import { uniqueSorted } from './compact.js';
import { alternateSplit, disjointSplit } from './recon-split.js';
import type { ClientData } from './types.js';
import type { RatedItems, UnseenUser } from '../eval/unseen-explicit.js';

/** Every interaction of every user as rows (ratings aligned when the data has them). */
export function allRows(ds: Dataset): UserItems {
  const { users, items, ratings } = ds.interactions;
  return buildUserItems(ds.nUsers, users, items, ratings);
}

/** The rows of `users` only (other users' rows empty). */
export function rowsOfUsers(rows: UserItems, users: Int32Array): UserItems {
  const keep = new Uint8Array(rows.indptr.length - 1);
  for (const u of users) keep[u] = 1;
  const us: number[] = [];
  const positions: number[] = [];
  for (let u = 0; u < keep.length; u++) {
    if (!keep[u]) continue;
    for (let k = rows.indptr[u]; k < rows.indptr[u + 1]; k++) {
      us.push(u);
      positions.push(k);
    }
  }
  return buildUserItems(
    keep.length,
    Int32Array.from(us),
    Int32Array.from(positions, (k) => rows.indices[k]),
    rows.values ? Float32Array.from(positions, (k) => rows.values![k]) : null,
  );
}

/** One stateless client per training user, holding all of that user's interactions. */
export function trainingClients(rows: UserItems, users: Int32Array): ClientData[] {
  const clients: ClientData[] = [];
  for (const u of users) {
    const items = rowOf(rows, u);
    if (items.length === 0) continue;
    clients.push({
      clientId: clients.length,
      users: Int32Array.of(u),
      positives: [items],
      ratings: [ratingsOf(rows, u)],
      excluded: [new Int32Array(0)],
    });
  }
  return clients;
}

/** Explicit evaluation users: ratings in a seeded order, even positions reconstruct, odd ones are scored. */
export function explicitEvaluationUsers(rows: UserItems, users: Int32Array, seed: number): UnseenUser[] {
  if (!rows.values) throw new Error('explicit evaluation needs ratings');
  const out: UnseenUser[] = [];
  for (const u of users) {
    const items = rowOf(rows, u);
    const ratings = ratingsOf(rows, u)!;
    const order = Rng.derive(seed, 'fedrecon-eval-order', u).shuffle(Int32Array.from({ length: items.length }, (_, k) => k));
    const split = disjointSplit(alternateSplit, items.length);
    const pick = (positions: Int32Array): RatedItems => ({
      items: Int32Array.from(positions, (p) => items[order[p]]),
      ratings: Float32Array.from(positions, (p) => ratings[order[p]]),
    });
    out.push({ user: u, reconstruction: pick(split.reconstruction), evaluation: pick(split.postReconstruction) });
  }
  return out;
}

/**
 * Implicit evaluation users of `part` as clients of their own (as a new user's device would hold):
 * positives = the reconstruction data, excluded = held-out items and evaluation negatives.
 */
export function implicitEvaluationClients(split: ImplicitSplit, users: Int32Array, part: EvalPart): ClientData[] {
  return Array.from(users, (u, k) => ({
    clientId: k,
    users: Int32Array.of(u),
    positives: [part === 'test' ? uniqueSorted([rowOf(split.train, u), rowOf(split.validation, u)]) : rowOf(split.train, u).slice()],
    ratings: [null],
    excluded: [uniqueSorted([
      rowOf(split.validation, u), rowOf(split.test, u), rowOf(split.negatives.validation, u), rowOf(split.negatives.test, u),
    ])],
  }));
}

/** Mean rating over clients, as a federated sum of (Σ ratings, count) pairs would compute it. */
export function federatedMeanRating(clients: readonly ClientData[]): number {
  let sum = 0;
  let count = 0;
  for (const c of clients) {
    for (const r of c.ratings) {
      if (!r) continue;
      for (const v of r) sum += v;
      count += r.length;
    }
  }
  if (count === 0) throw new Error('federatedMeanRating: the clients hold no ratings');
  return sum / count;
}

function ratingsOf(rows: UserItems, u: number): Float32Array | null {
  return rows.values ? rows.values.subarray(rows.indptr[u], rows.indptr[u + 1]) : null;
}
