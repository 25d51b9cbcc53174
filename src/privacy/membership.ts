/**
 * Loss-threshold membership inference (Yeom, Giacomelli, Fredrikson & Jha, CSF 2018) against the
 * released global tables of an MF model: was this user's history in the training set?
 * The attacker holds a candidate user's items and the released item table; the user's own vector
 * never left its device, so the attacker reconstructs one — logistic regression of the user's items
 * against sampled unseen items, item tables frozen (as a new FedRecon user would) — and scores the
 * user by the mean loss of its items. A lower loss says "member". The attack's AUC over members
 * (training users' train items) and non-members (held-out users, never trained on) is 0.5 when the
 * release says nothing about membership.
 */
import { Rng } from '../math/rng.js';
import type { GlobalParams } from '../models/types.js';

export interface MembershipCandidate {
  /** Model item ids of the candidate's history. */
  readonly items: Int32Array;
  readonly member: boolean;
}

export interface AttackOptions {
  readonly dim: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly l2?: number;
  readonly negatives?: number;
  readonly seed?: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The attack's loss for one candidate (lower: more likely a member). */
export function reconstructedLoss(global: GlobalParams, items: Int32Array, rng: Rng, o: Required<Omit<AttackOptions, 'seed'>>): number {
  const Q = global.itemEmb;
  const bi = global.itemBias;
  const g = global.globalBias[0];
  const nItems = bi.length;
  const own = new Set(items);
  const negs: number[] = [];
  while (negs.length < o.negatives * items.length && own.size < nItems) {
    const j = rng.int(nItems);
    if (!own.has(j)) negs.push(j);
  }
  const p = new Float64Array(o.dim);
  const grad = new Float64Array(o.dim);
  const examples = [...Array.from(items, (i) => [i, 1]), ...negs.map((j) => [j, 0])];
  for (let s = 0; s < o.steps; s++) {
    grad.fill(0);
    for (const [i, y] of examples) {
      let z = g + bi[i];
      for (let d = 0; d < o.dim; d++) z += p[d] * Q[i * o.dim + d];
      const e = sigmoid(z) - y;
      for (let d = 0; d < o.dim; d++) grad[d] += e * Q[i * o.dim + d];
    }
    for (let d = 0; d < o.dim; d++) p[d] -= o.lr * (grad[d] / examples.length + o.l2 * p[d]);
  }
  let loss = 0;
  for (const i of items) {
    let z = g + bi[i];
    for (let d = 0; d < o.dim; d++) z += p[d] * Q[i * o.dim + d];
    loss += -Math.log(Math.max(sigmoid(z), 1e-12));
  }
  return loss / items.length;
}

/** Area under the ROC curve of a score where higher means "member" (ties count one half). */
export function auc(scores: readonly number[], members: readonly boolean[]): number {
  const order = scores.map((s, k) => [s, k] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let nPos = 0;
  let k = 0;
  while (k < order.length) {
    let j = k;
    while (j + 1 < order.length && order[j + 1][0] === order[k][0]) j++;
    const midRank = (k + j) / 2 + 1;
    for (let t = k; t <= j; t++) if (members[order[t][1]]) {
      rankSum += midRank;
      nPos++;
    }
    k = j + 1;
  }
  const nNeg = order.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The attack's AUC over the candidates. */
export function lossThresholdAuc(global: GlobalParams, candidates: readonly MembershipCandidate[], options: AttackOptions): number {
  const o = { steps: 50, lr: 1, l2: 0.01, negatives: 4, ...options };
  const rng = Rng.derive(options.seed ?? 0, 'membership-attack');
  const scores = candidates.map((c) => -reconstructedLoss(global, c.items, rng, o));
  return auc(scores, candidates.map((c) => c.member));
}
