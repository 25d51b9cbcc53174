/**
 * FedProx (Li, Sahu, Zaheer, Sanjabi, Talwalkar & Smith, "Federated Optimization in Heterogeneous
 * Networks", MLSys 2020): FedAvg whose clients minimise their local loss plus a proximal term that
 * keeps them near the model they received. Round r:
 *  1. the server sends the global tables w^r and the plan, with μ under `fedprox`;
 *  2. each client trains `localEpochs` passes on h(w) = F_k(w) + (μ/2)·‖w − w^r‖² over the global
 *     tables (its user tables are its own and get no term), from w^r and its kept user tables, and
 *     sends the change of the global rows it touched;
 *  3. the server averages and applies the updates as FedAvg (federated/fedavg.ts).
 * Row-sparse as the rest of local training: a minibatch adds μ·(w − w^r) on the item rows its
 * examples touch and on every dense table, as L2 weight decay is applied (lazily, touched rows
 * only). μ = 0 is FedAvg exactly (the same client work, untouched).
 */
import { z } from 'zod';
import { runClientRound, type LocalTerm } from '../federated/client-work.js';
import { strategyForRule } from '../federated/robust.js';
import type { RoundPlan } from '../federated/types.js';
import type { Grads } from '../models/types.js';
import type { Algorithm } from './types.js';

/** μ chosen on ML-100K validation NDCG@10 among 0.001 (0.4178), 0.01 (0.4150) and 0.1 (0.4176); README. */
const options = z.object({
  proxMu: z.number().min(0).default(0.001),
});

const planSchema = z.object({ mu: z.number().min(0) }).strict();

/** μ from a plan's `fedprox` field. */
export function proxMuOf(plan: RoundPlan): number {
  const parsed = planSchema.safeParse((plan as unknown as Record<string, unknown>).fedprox);
  if (!parsed.success) throw new Error(`a 'fedprox' round plan needs fedprox.mu ≥ 0 (${parsed.error.issues[0]?.message})`);
  return parsed.data.mu;
}

/**
 * The proximal term (μ/2)·‖w − w^r‖² over the global tables of a client's compact model, w^r being
 * their values when the round starts; per minibatch on the touched item rows and every dense row.
 */
export function proximalTerm(mu: number): LocalTerm {
  return (model) => {
    const names = model.info.filter((p) => p.scope === 'global').map((p) => p.name);
    const tables = model.params.global;
    const anchor = Object.fromEntries(names.map((name) => [name, tables[name].slice()]));
    return (grads: Grads) => {
      let loss = 0;
      for (const name of names) {
        const w = tables[name];
        const w0 = anchor[name];
        const g = grads.values[name];
        const width = grads.width(name);
        for (const r of grads.touchedRows(name)) {
          for (let k = r * width, end = k + width; k < end; k++) {
            const d = w[k] - w0[k];
            g[k] += mu * d;
            loss += d * d;
          }
        }
      }
      return 0.5 * mu * loss;
    };
  };
}

export const fedprox: Algorithm<typeof options.shape> = {
  name: 'fedprox',
  paper: 'Li et al., MLSys 2020',
  summary: 'FedAvg with a proximal term in local training',
  options,
  flags: {
    'prox-mu': { key: 'proxMu', kind: 'number', help: 'fedprox: weight μ of the proximal term (μ/2)·‖w − w_global‖² in local training (0 = FedAvg)' },
  },
  capabilities: { sumsUpdates: true, workers: true },
  models: ['mf', 'neumf'],
  sharedDefaults: 'fedavg',
  plan: (c) => ({ fedprox: planSchema.parse({ mu: c.proxMu }) }),
  server: ({ info, nItems, training, sum }) => strategyForRule(training.aggregation, info, nItems, sum),
  client: (plan, global, data, state, sampler, engine) => {
    const mu = proxMuOf(plan);
    return runClientRound(plan, global, data, state, sampler, mu === 0 ? engine : { ...engine, localTerm: proximalTerm(mu) });
  },
};
