/**
 * Federated implicit ALS: the iALS objective (Hu, Koren & Volinsky, ICDM 2008; Rendle et al.,
 * RecSys 2022) federated as in Ammad-ud-din et al., "Federated Collaborative Filtering for
 * Privacy-Preserving Personalized Recommendation System" (2019). Round r (federated/ials.ts states
 * the algebra):
 *  1. the server sends the item factors H and the objective (α₀, λ, ν) under the plan's `ials`;
 *  2. each device solves its user factors in closed form against H and sends item-side statistics
 *     for its positives' rows and its w_u·w_uᵀ; w_u never leaves the device and is not kept;
 *  3. the server takes a preconditioned step on every item factor.
 * To score, a device solves its user factors again against the current H (`localTables`). The run
 * recipe (central and federated) is recipes/ials-experiment.ts.
 */
import { z } from 'zod';
import { gramian, type IalsHyper } from '../models/ials/solve.js';
import { IalsStrategy, runIalsClient, solveLocalUsers } from '../federated/ials.js';
import type { RoundPlan } from '../federated/types.js';
import type { TrainConfig } from '../config/config.js';
import { ialsPlanSchema } from '../wire/ials-plan.js';
import type { Algorithm } from './types.js';

/** The iALS objective of a run's config: α₀, λ (`l2`) and ν (model fields: config/config.ts). */
export function ialsHyperOf(c: TrainConfig): IalsHyper {
  return { unobservedWeight: c.unobservedWeight, reg: c.l2, regExponent: c.regExponent };
}

/** iALS's objective from a plan's `ials` field (wire/ials-plan.ts). */
export function ialsPlanOf(plan: RoundPlan): IalsHyper {
  const parsed = ialsPlanSchema.safeParse((plan as unknown as Record<string, unknown>).ials);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `ials.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`an 'ials' round plan needs valid iALS settings (${why})`);
  }
  return parsed.data;
}

/**
 * G_H of the item factors a round's devices received: every device of a round computes the same
 * Gramian from the same table, so where several run in one process (the simulation) it is computed
 * once per round. Keyed by the table and the round; the table does not change within a round.
 */
let gramOf: { table: Float32Array; round: number; seed: number; gram: Float64Array } | null = null;
function roundGramian(plan: RoundPlan, table: Float32Array): Float64Array {
  if (gramOf?.table !== table || gramOf.round !== plan.round || gramOf.seed !== plan.seed) {
    gramOf = { table, round: plan.round, seed: plan.seed, gram: gramian(table, plan.model.dim) };
  }
  return gramOf.gram;
}

export const ials: Algorithm<{}> = {
  name: 'ials',
  paper: 'Hu et al., ICDM 2008; Ammad-ud-din et al., 2019',
  summary: 'federated implicit ALS: closed-form user solves on the device',
  options: z.object({}),
  flags: {},
  capabilities: { sumsUpdates: false, workers: false },
  plan: (c) => ({ ials: ialsPlanSchema.parse(ialsHyperOf(c)) }),
  server: ({ nItems, training }) => new IalsStrategy(nItems, training.dim, ialsHyperOf(training), training.serverLr),
  // Stateless: the user factors are solved in closed form every round and never kept or sent.
  client: (plan, global, data) => runIalsClient(plan, ialsPlanOf(plan), global, data, roundGramian(plan, global.itemEmb)),
  // Scoring: the same closed-form solve against the current item factors.
  localTables: (plan, global, data) => solveLocalUsers(plan.model.dim, ialsPlanOf(plan), global, data, plan.recency),
};
