/**
 * One LightGCN / NCL training epoch over the whole graph (He et al., SIGIR 2020; Lin et al.,
 * WWW 2022), with RecBole's schedule: for every minibatch of (user, positive, negative) triples,
 *  1. propagate E(0) through all layers (the graph changes every step, so nothing is cached);
 *  2. loss = mean BPR on the final embeddings + L2 on the batch's layer-0 rows + extra terms
 *     (NCL's contrastive losses) that write their gradients into the per-layer gradients;
 *  3. back-propagate through the layers to ∂loss/∂E(0) (dense) and take one optimiser step.
 */
import type { Optimizer } from '../../optim/types.js';
import { denseGrads } from '../../optim/dense-grads.js';
import type { ExampleSet } from '../../train/types.js';
import { bprLoss, type BprBatch } from './bpr.js';
import type { LightGcn } from './model.js';
import type { Propagation } from './propagation.js';

/** Extra loss terms on a batch; gradients go into `propagation.layerGrads`. */
export interface GraphBatchLoss {
  addBatch(batch: BprBatch, propagation: Propagation): number;
}

export interface GraphFitOptions {
  readonly batch: number;
  /** L2 coefficient on the batch's layer-0 rows. */
  readonly reg: number;
  /**
   * Item representation in the score: 'final' (LightGCN) or 'layer0' (the federated ego-graph
   * variant, where an item's neighbours are other clients' users). Default 'final'.
   */
  readonly itemScoring?: 'final' | 'layer0';
}

/**
 * Trainer state for one model: optimiser, dense gradient buffers and node-id buffers, allocated once.
 * `examples` are BPR examples with dense user / item ids (as buildEpochExamples makes them).
 */
export class GraphTrainer {
  private readonly gFinal: Float32Array;
  private readonly gE0: Float32Array;
  private readonly grads;

  constructor(
    readonly model: LightGcn,
    private readonly optimizer: Optimizer,
    private readonly options: GraphFitOptions,
    private readonly extra: GraphBatchLoss | null = null,
  ) {
    this.gFinal = new Float32Array(model.e0.length);
    this.gE0 = new Float32Array(model.e0.length);
    this.grads = denseGrads({ e0: this.gE0 }, { e0: model.dim });
  }

  /** One pass over `examples`; returns the mean batch loss. */
  fitEpoch(examples: ExampleSet): number {
    if (!examples.negatives) throw new Error('GraphTrainer: examples must be BPR triples (loss bpr)');
    const { model, options } = this;
    const n = examples.length;
    const users = examples.users;
    const positives = new Int32Array(n);
    const negatives = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      positives[k] = model.nUsers + examples.items[k];
      negatives[k] = model.nUsers + examples.negatives[k];
    }
    const prop = model.propagation;
    let total = 0;
    let batches = 0;
    for (let start = 0; start < n; start += options.batch) {
      const batch: BprBatch = { users, positives, negatives, start, end: Math.min(n, start + options.batch) };
      model.forward();
      prop.zeroGrads();
      this.gFinal.fill(0);
      const final = { values: prop.final, grad: this.gFinal };
      const layer0 = { values: prop.layers[0], grad: prop.layerGrads[0] };
      let loss = bprLoss(batch, model.dim, final, options.itemScoring === 'layer0' ? layer0 : final, layer0, options.reg);
      if (this.extra) loss += this.extra.addBatch(batch, prop);
      prop.backward(this.gFinal, this.gE0);
      this.optimizer.step({ e0: model.e0 }, this.grads, ['e0']);
      total += loss;
      batches++;
    }
    return batches > 0 ? total / batches : 0;
  }
}
