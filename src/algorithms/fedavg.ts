/**
 * FedAvg (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized
 * Data", AISTATS 2017), for recommendation as FedMF / FedNCF, with a server optimiser (FedAvgM,
 * FedAdam: Reddi et al., ICLR 2021). Round r:
 *  1. the server samples clients and sends each the global tables and the round plan;
 *  2. each client trains `localEpochs` passes over its own positives (fresh negatives each epoch)
 *     from the global tables and its kept user tables (federated/client-work.ts), and sends the
 *     change of the global rows it touched; its user tables stay on the device;
 *  3. the server bounds every update (its weight, its L2 norm: federated/bounds.ts), averages item
 *     rows over the clients that touched them and dense tables over all, and its optimiser applies
 *     the average (federated/fedavg.ts; a robust statistic instead of the mean: federated/robust.ts).
 */
import { z } from 'zod';
import { runClientRound } from '../federated/client-work.js';
import { strategyForRule } from '../federated/robust.js';
import type { Algorithm } from './types.js';

export const fedavg: Algorithm<{}> = {
  name: 'fedavg',
  paper: 'McMahan et al., AISTATS 2017',
  summary: 'federated averaging with a server optimiser',
  options: z.object({}),
  flags: {},
  capabilities: { sumsUpdates: true, workers: true },
  plan: () => ({}),
  server: ({ info, nItems, training, sum }) => strategyForRule(training.aggregation, info, nItems, sum),
  client: (plan, global, data, state, sampler, engine) => runClientRound(plan, global, data, state, sampler, engine),
};
