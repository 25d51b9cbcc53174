/**
 * Partitions a split into federated clients: one client per user by default, or `usersPerClient`
 * users per client (a household, a shared device). A client's data is its users' train positives
 * and the items it must not draw as training negatives (see data/negatives.ts for why they depend on
 * the split: evaluation negatives always, held-out positives for leave-one-out splits).
 */
import { trainRecencyOf } from '../data/recency.js';
import { rowOf } from '../data/user-items.js';
import { heldOutExclusionSources } from '../data/negatives.js';
import type { ImplicitSplit } from '../data/types.js';
import { Rng } from '../math/rng.js';
import type { ClientData } from './types.js';
import { uniqueSorted } from './compact.js';

export function partitionClients(split: ImplicitSplit, usersPerClient: number, seed: number): ClientData[] {
  if (!Number.isInteger(usersPerClient) || usersPerClient < 1) {
    throw new Error(`usersPerClient must be a positive integer, got ${usersPerClient}`);
  }
  const order = Int32Array.from({ length: split.nUsers }, (_, u) => u);
  if (usersPerClient > 1) Rng.derive(seed, 'partition').shuffle(order);
  const heldOut = heldOutExclusionSources(split);
  const clients: ClientData[] = [];
  for (let start = 0; start < order.length; start += usersPerClient) {
    const users = order.slice(start, Math.min(order.length, start + usersPerClient)).sort();
    const positives = Array.from(users, (u) => rowOf(split.train, u));
    if (positives.every((p) => p.length === 0)) continue;
    clients.push({
      clientId: clients.length,
      users,
      positives,
      ratings: Array.from(users, (u) => trainRatings(split, u)),
      recency: Array.from(users, (u) => trainRecencyOf(split, u)),
      excluded: Array.from(users, (u) => uniqueSorted(heldOut.map((ui) => rowOf(ui, u)))),
    });
  }
  return clients;
}

function trainRatings(split: ImplicitSplit, u: number): Float32Array | null {
  const values = split.train.values;
  return values ? values.subarray(split.train.indptr[u], split.train.indptr[u + 1]) : null;
}

/** Choose this round's clients: `count` of `n`, without replacement, seeded per round. */
export function sampleClients(n: number, count: number, seed: number, round: number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, k) => k);
  if (count >= n) return all;
  const rng = Rng.derive(seed, 'client-sampling', round);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, count).sort();
}
