/**
 * Federated Reconstruction (Singhal et al., "Federated Reconstruction: Partially Local Federated
 * Learning", NeurIPS 2021): the user tables never leave a device and are not kept either. Round r:
 *  1. the server sends the global tables and the plan (reconstruction settings under `fedrecon`);
 *  2. each device splits its data (federated/recon-split.ts), reconstructs its user tables from
 *     one part with the global tables frozen, then trains the global tables on the other part with
 *     its user tables frozen, and sends the change of the global rows (federated/fedrecon.ts);
 *  3. the server folds the deltas like FedAvg and its optimiser applies them.
 * To score, a device reconstructs its user tables from all of its data (`localTables`). The run
 * recipe with the unseen-user protocol is recipes/fedrecon-experiment.ts.
 */
import { z } from 'zod';
import { Rng } from '../math/rng.js';
import { localPositives } from '../federated/client-work.js';
import { FedRecon, reconstructLocal, runFedReconClient, type ReconPlan } from '../federated/fedrecon.js';
import { RECON_SPLITS } from '../federated/recon-split.js';
import { strategyForRule } from '../federated/robust.js';
import type { RoundPlan } from '../federated/types.js';
import type { NegativeSource } from '../train/examples.js';
import { fedReconPlanSchema } from '../wire/protocol.js';
import type { Algorithm } from './types.js';

const positiveInt = z.number().int().positive();

/** Defaults tuned on ML-100K (docs/fedrecon.md); the shared fields FedRecon sets differently are in config/config.ts. */
const options = z.object({
  userSplit: z.array(z.number().gt(0).lt(1)).length(3).default([0.8, 0.1, 0.1])
    .refine((r) => Math.abs(r[0] + r[1] + r[2] - 1) < 1e-6, { message: 'expected train,validation,test user fractions summing to 1, e.g. 0.8,0.1,0.1' }),
  reconSplit: z.enum(['alternate', 'reuse']).default('alternate'),
  reconOptimizer: z.enum(['sgd', 'adam']).default('sgd'),
  reconLr: z.number().positive().default(0.1),
  reconEpochs: positiveInt.default(1),
  reconStepsMax: z.number().int().min(0).default(0),
  postReconStepsMax: z.number().int().min(0).default(0),
});

/** FedRecon's settings from a plan's `fedrecon` field (validated by the wire schema). */
export function reconPlanOf(plan: RoundPlan): ReconPlan {
  const parsed = fedReconPlanSchema.safeParse((plan as unknown as Record<string, unknown>).fedrecon);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `fedrecon.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`a 'fedrecon' round plan needs valid reconstruction settings (${why})`);
  }
  const f = parsed.data;
  return {
    reconstruction: { optimizer: f.reconstruction.optimizer, epochs: f.reconstruction.epochs, stepsMax: f.reconstruction.stepsMax },
    postReconstructionStepsMax: f.postReconstructionStepsMax,
    split: RECON_SPLITS[f.split],
  };
}

/** Explicit feedback (MSE on ratings) trains without negatives. */
const samplerFor = (plan: RoundPlan, sampler: NegativeSource): NegativeSource | null => (plan.loss === 'mse' ? null : sampler);

export const fedrecon: Algorithm<typeof options.shape> = {
  name: 'fedrecon',
  paper: 'Singhal et al., NeurIPS 2021',
  summary: 'Federated Reconstruction: stateless clients, unseen evaluation users',
  options,
  flags: {
    'user-split': { key: 'userSplit', kind: 'fractionList', help: 'fedrecon: train,validation,test user fractions' },
    'recon-split': { key: 'reconSplit', kind: 'string', help: 'fedrecon training: alternate | reuse (all data for both phases); evaluation always disjoint' },
    'recon-optimizer': { key: 'reconOptimizer', kind: 'string', help: 'fedrecon: sgd | adam for reconstructing user tables' },
    'recon-lr': { key: 'reconLr', kind: 'number', help: 'fedrecon: reconstruction learning rate' },
    'recon-epochs': { key: 'reconEpochs', kind: 'integer', help: 'fedrecon: reconstruction epochs' },
    'recon-steps-max': { key: 'reconStepsMax', kind: 'integer', help: 'fedrecon: most reconstruction steps (0 = no cap)' },
    'post-recon-steps-max': { key: 'postReconStepsMax', kind: 'integer', help: 'fedrecon: most post-reconstruction steps (0 = no cap)' },
  },
  capabilities: { sumsUpdates: true, workers: false },
  plan: (c) => ({
    fedrecon: fedReconPlanSchema.parse({
      reconstruction: { optimizer: { kind: c.reconOptimizer, lr: c.reconLr }, epochs: c.reconEpochs, stepsMax: c.reconStepsMax },
      postReconstructionStepsMax: c.postReconStepsMax,
      split: c.reconSplit,
    }),
  }),
  server: ({ info, nItems, training, sum }) => strategyForRule(training.aggregation, info, nItems, sum, () => new FedRecon(info, nItems, sum), 'fedrecon'),
  // Stateless: `state` is ignored and none is returned; the user tables are dropped after the round.
  client: (plan, global, data, _state, sampler) => runFedReconClient(plan, reconPlanOf(plan), global, data, samplerFor(plan, sampler)),
  // Scoring: reconstruct the user tables from all of this device's data, global tables frozen.
  localTables: (plan, global, data, sampler) =>
    reconstructLocal(plan, reconPlanOf(plan).reconstruction, global, localPositives(data), samplerFor(plan, sampler), Rng.derive(plan.seed, 'fedrecon-reconstruct', data.clientId)),
};
