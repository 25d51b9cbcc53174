/**
 * Sampled softmax loss for implicit feedback (Bengio & Senécal 2008; for recommendation Covington
 * et al. 2016 and Wu et al., "On the Effectiveness of Sampled Softmax Loss for Item
 * Recommendation", 2022): each train positive competes with its own K sampled negatives,
 *   loss = −log( exp(s_pos) / Σ_{j ∈ {pos} ∪ negatives} exp(s_j) ),
 * and ∂loss/∂s_j = softmax_j − [j = pos]. An example set for it holds groups of 1 + K consecutive
 * examples, the positive first (train/examples.ts); user-only terms of the score (MF's user and
 * global bias) cancel.
 */
import type { Grads, RecModel } from '../models/types.js';

/**
 * One group: the positive `items[start]` and its negatives `items[start+1 .. start+size)` for
 * user `user`; adds `scale`·∂loss/∂θ to `grads` and returns the group's loss.
 */
export function softmaxGroup(model: Pick<RecModel, 'score' | 'backward'>, user: number, items: Int32Array, start: number, size: number, scale: number, grads: Grads, scores: Float64Array = new Float64Array(size)): number {
  let max = -Infinity;
  for (let j = 0; j < size; j++) {
    scores[j] = model.score(user, items[start + j]);
    if (scores[j] > max) max = scores[j];
  }
  let sum = 0;
  for (let j = 0; j < size; j++) sum += Math.exp(scores[j] - max);
  const logSum = max + Math.log(sum);
  for (let j = 0; j < size; j++) {
    const p = Math.exp(scores[j] - logSum);
    model.backward(user, items[start + j], scale * (p - (j === 0 ? 1 : 0)), grads);
  }
  return logSum - scores[0];
}
