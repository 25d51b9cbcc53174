/**
 * Federated LightGCN / NCL (He et al., SIGIR 2020; Lin et al., WWW 2022; aggregation by FedAvg,
 * McMahan et al., AISTATS 2017) as an Algorithm module: FedAvg rounds (`--algorithm fedavg`,
 * `variantOf`) for `--model lightgcn | ncl`, in simulation (recipes/graph-federated.ts) and on the
 * coordinator. The server holds the global item table only and folds the clients' item-row deltas
 * with FedAvg and the configured server optimiser, exactly as recipes/graph-federated.ts; the plan
 * carries the graph settings under `lightgcn`; the device side is ./lightgcn-device.ts (it also
 * computes NCL's prototypes from the downloaded table). One user per client (its ego-graph), as in
 * the simulation. User-level DP (central or distributed) wraps this FedAvg in the coordinator's
 * DpAggregator, built as the simulation builds it. Deployed = simulated bit for bit, with and
 * without DP (server/graph-deploy.test.ts; with dpNoise 'seeded', the coordinator's default being the CSPRNG).
 */
import { z } from 'zod';
import { FedAvg } from '../federated/fedavg.js';
import { fillUniform } from '../math/kernels.js';
import { Rng } from '../math/rng.js';
import { paramInfo } from '../models/params.js';
import type { TrainConfig } from '../config/config.js';
import { ConfigError } from '../config/config-derived.js';
import { graphSettings } from '../config/graph-settings.js';
import { lightGcnClientWork, lightGcnPlanSchema, lightGcnScorer } from './lightgcn-device.js';
import type { Algorithm } from './types.js';

function checked(c: TrainConfig): ReturnType<typeof graphSettings> {
  if (c.usersPerClient !== 1) throw new ConfigError(`training.usersPerClient: federated ${c.model} trains one ego-graph per device, so usersPerClient must be 1, got ${c.usersPerClient}`);
  if (c.download !== 'f32') throw new ConfigError(`training.download '${c.download}': federated ${c.model} deploys with float32 downloads only (its simulation trains on the exact item table)`);
  return graphSettings(c);
}

export const lightgcn: Algorithm<{}> = {
  name: 'lightgcn',
  variantOf: 'fedavg',
  paper: 'He et al., SIGIR 2020; Lin et al., WWW 2022; McMahan et al., AISTATS 2017',
  summary: 'FedAvg rounds of LightGCN / NCL on each device\'s ego-graph',
  // their fields (gcnLayers, regWeight, NCL's terms) are model fields: config/config.ts
  options: z.object({}),
  flags: {},
  // the server is a FedAvg sum (user-level DP wraps it); LightGCN's kernels need Node worker threads
  capabilities: { sumsUpdates: true, workers: false, tab: false },
  models: ['lightgcn', 'ncl'],
  plan: (c) => {
    const s = checked(c);
    return { lightgcn: lightGcnPlanSchema.parse({ dim: s.dim, layers: s.layers, reg: s.reg, batch: s.batch, optimizer: s.optimizer, seed: s.seed, ncl: s.ncl }) };
  },
  server: ({ info, nItems, training, sum }) => new FedAvg(info, nItems, { serverOptimizer: sum.serverOptimizer, rowAveraging: training.rowAveraging }),
  client: lightGcnClientWork,
  servedModel: (c, nItems) => {
    const s = checked(c);
    return {
      info: [paramInfo('itemEmb', nItems, s.dim, 'item'), paramInfo('userEmb', 0, s.dim, 'user')],
      plan: { kind: c.model, dim: s.dim },
      // the simulation's initial item table (recipes/graph-federated.ts)
      init: () => ({ itemEmb: fillUniform(new Float32Array(nItems * s.dim), Math.sqrt(6 / (nItems + s.dim)), Rng.derive(s.seed, 'init-global')) }),
    };
  },
  scorer: lightGcnScorer,
};
