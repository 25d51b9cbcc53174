/**
 * The minibatch loop: for each batch, accumulate dLoss/dScore into row-sparse gradients (mean over
 * the batch), then let the optimiser update the touched rows of the tables it is given.
 * Losses: BCE-with-logits (pointwise), BPR (pairwise), MSE (explicit ratings).
 */
import { bpr } from '../math/kernels.js';
import { softmaxGroup } from './softmax.js';
import type { Optimizer } from '../optim/types.js';
import type { Grads, RecModel } from '../models/types.js';
import type { ExampleSet, LossKind } from './types.js';

/**
 * Called once per minibatch, after the examples' gradients are accumulated and before the
 * optimiser step: adds batch-level terms (a proximal penalty, deferred gradients) to `grads` and
 * returns the loss they add to the batch.
 */
export type BatchHook = (grads: Grads) => number;

/** One pass over `examples`; returns the mean loss per example (batch-level terms included). */
export function fitEpoch(
  model: Pick<RecModel, 'score' | 'backward' | 'pointwise' | 'pointwiseBatch'>,
  examples: ExampleSet,
  loss: LossKind,
  batch: number,
  grads: Grads,
  optimizer: Optimizer,
  tables: { readonly [name: string]: Float32Array },
  trainable: readonly string[],
  onBatch?: BatchHook,
): number {
  if (loss === 'softmax') return fitSoftmaxEpoch(model, examples, batch, grads, optimizer, tables, trainable, onBatch);
  const { users, items, labels, negatives } = examples;
  let total = 0;
  for (let start = 0; start < examples.length; start += batch) {
    const end = Math.min(examples.length, start + batch);
    const scale = 1 / (end - start);
    if (loss !== 'bpr' && model.pointwiseBatch) total += model.pointwiseBatch(users, items, labels, start, end, loss, scale, grads);
    else for (let k = start; k < end; k++) {
      const u = users[k];
      const i = items[k];
      if (loss === 'bpr') {
        const j = negatives![k];
        const r = bpr(model.score(u, i) - model.score(u, j));
        total += r.loss;
        model.backward(u, i, r.grad * scale, grads);
        model.backward(u, j, -r.grad * scale, grads);
      } else {
        total += model.pointwise(u, i, labels[k], loss, scale, grads);
      }
    }
    if (onBatch) total += onBatch(grads) * (end - start);
    optimizer.step(tables, grads, trainable);
    grads.reset();
  }
  return examples.length > 0 ? total / examples.length : 0;
}

/**
 * Sampled softmax (train/softmax.ts): `batch` counts groups (positives), the gradient is the mean
 * over the batch's groups; returns the mean loss per group.
 */
function fitSoftmaxEpoch(
  model: Pick<RecModel, 'score' | 'backward'>,
  examples: ExampleSet,
  batch: number,
  grads: Grads,
  optimizer: Optimizer,
  tables: { readonly [name: string]: Float32Array },
  trainable: readonly string[],
  onBatch?: BatchHook,
): number {
  const size = examples.group;
  if (!size) throw new Error("loss 'softmax' needs an example set of groups (buildEpochExamples with loss 'softmax')");
  const groups = examples.length / size;
  const scores = new Float64Array(size);
  let total = 0;
  for (let start = 0; start < groups; start += batch) {
    const end = Math.min(groups, start + batch);
    const scale = 1 / (end - start);
    for (let g = start; g < end; g++) total += softmaxGroup(model, examples.users[g * size], examples.items, g * size, size, scale, grads, scores);
    if (onBatch) total += onBatch(grads) * (end - start);
    optimizer.step(tables, grads, trainable);
    grads.reset();
  }
  return groups > 0 ? total / groups : 0;
}

/** Every table of a model by name (global and local together). */
export function tablesOf(model: RecModel): Record<string, Float32Array> {
  return { ...model.params.global, ...model.params.local };
}
