/**
 * Builds one epoch of training examples from users' train positives and freshly sampled negatives
 * (NCF protocol: `ratio` negatives per positive, renewed every epoch). Negatives come from a
 * sampler that excludes train positives and evaluation negatives, so no evaluation negative can
 * ever become a training example.
 */
import type { Rng } from '../math/rng.js';
import type { ExampleSet, LossKind } from './types.js';

/** Draws training negatives for one user (see data/negatives.ts). */
export interface NegativeSource {
  /** Catalogue size: negatives are item ids in [0, nItems). */
  readonly nItems: number;
  sample(user: number, count: number, rng: Rng, out: Int32Array, offset: number): void;
}

/** Positives of one user: `items[start..end)`. */
export interface UserPositives {
  readonly user: number;
  readonly items: Int32Array;
  /** Rating per positive when training on explicit feedback. */
  readonly ratings?: Float32Array | null;
}

/**
 * One epoch of examples. BCE: each positive (label 1) plus `ratio` negatives (label 0).
 * BPR: `ratio` (positive, negative) pairs per positive. MSE: the rated items only, no negatives.
 * The result is shuffled with `rng`.
 */
export function buildEpochExamples(
  positives: readonly UserPositives[],
  sampler: NegativeSource | null,
  loss: LossKind,
  ratio: number,
  rng: Rng,
): ExampleSet {
  let nPos = 0;
  for (const p of positives) nPos += p.items.length;
  if (loss === 'softmax') return buildSoftmaxGroups(positives, sampler, ratio, rng);
  const perPositive = loss === 'bce' ? 1 + ratio : loss === 'bpr' ? ratio : 1;
  const n = nPos * perPositive;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const labels = new Float32Array(n);
  const negatives = loss === 'bpr' ? new Int32Array(n) : null;
  if (loss !== 'mse' && !sampler) throw new Error(`loss '${loss}' needs a negative sampler`);
  let k = 0;
  for (const p of positives) {
    const m = p.items.length;
    if (loss === 'mse') {
      if (!p.ratings) throw new Error(`loss 'mse' needs ratings (user ${p.user} has none)`);
      for (let j = 0; j < m; j++, k++) {
        users[k] = p.user;
        items[k] = p.items[j];
        labels[k] = p.ratings[j];
      }
      continue;
    }
    if (loss === 'bce') {
      for (let j = 0; j < m; j++, k++) {
        users[k] = p.user;
        items[k] = p.items[j];
        labels[k] = 1;
      }
      const count = m * ratio;
      sampler!.sample(p.user, count, rng, items, k);
      users.fill(p.user, k, k + count);
      k += count; // labels stay 0
      continue;
    }
    sampler!.sample(p.user, m * ratio, rng, negatives!, k);
    for (let r = 0; r < ratio; r++) {
      for (let j = 0; j < m; j++, k++) {
        users[k] = p.user;
        items[k] = p.items[j];
        labels[k] = 1;
      }
    }
  }
  shuffleExamples(users, items, labels, negatives, rng);
  return { users, items, labels, negatives, length: n };
}

/**
 * Sampled softmax (train/softmax.ts): per positive a group of 1 + `ratio` examples, the positive
 * (label 1) then its negatives (label 0); the groups, not the examples, are shuffled with `rng`.
 */
function buildSoftmaxGroups(positives: readonly UserPositives[], sampler: NegativeSource | null, ratio: number, rng: Rng): ExampleSet {
  if (!sampler) throw new Error("loss 'softmax' needs a negative sampler");
  const group = 1 + ratio;
  let nPos = 0;
  for (const p of positives) nPos += p.items.length;
  const users = new Int32Array(nPos * group);
  const items = new Int32Array(nPos * group);
  const labels = new Float32Array(nPos * group);
  const negs = new Int32Array(ratio);
  let k = 0;
  for (const p of positives) {
    for (let j = 0; j < p.items.length; j++) {
      users.fill(p.user, k, k + group);
      items[k] = p.items[j];
      labels[k] = 1;
      sampler.sample(p.user, ratio, rng, negs, 0);
      items.set(negs, k + 1);
      k += group;
    }
  }
  for (let g = nPos - 1; g > 0; g--) {
    const h = rng.int(g + 1);
    if (h === g) continue;
    for (let t = 0; t < group; t++) {
      swap(users, g * group + t, h * group + t);
      swap(items, g * group + t, h * group + t);
      swap(labels, g * group + t, h * group + t);
    }
  }
  return { users, items, labels, negatives: null, length: nPos * group, group };
}

function shuffleExamples(users: Int32Array, items: Int32Array, labels: Float32Array, negatives: Int32Array | null, rng: Rng): void {
  // one loop per element type (monomorphic array access); the same draws and swaps in the same order
  for (let i = users.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const u = users[i];
    users[i] = users[j];
    users[j] = u;
    const it = items[i];
    items[i] = items[j];
    items[j] = it;
    const l = labels[i];
    labels[i] = labels[j];
    labels[j] = l;
    if (negatives) {
      const n = negatives[i];
      negatives[i] = negatives[j];
      negatives[j] = n;
    }
  }
}

function swap(a: Int32Array | Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
