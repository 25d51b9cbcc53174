/**
 * Federated LightGCN / NCL deployed (He et al., SIGIR 2020; Lin et al., WWW 2022; aggregation by
 * FedAvg, McMahan et al., AISTATS 2017): `model 'lightgcn' | 'ncl'` with `algorithm 'fedavg'` on the
 * coordinator. The server holds the global item table only and folds the clients' item-row deltas
 * with FedAvg and the configured server optimiser, exactly as runtime/graph-federated.ts; the plan
 * carries the graph settings under `lightgcn`; the device side is ./lightgcn-device.ts (it also
 * computes NCL's prototypes from the downloaded table). One user per client (its ego-graph), as in
 * the simulation. User-level DP (central or distributed) wraps this FedAvg in the coordinator's
 * DpAggregator, built as the simulation builds it. Deployed = simulated bit for bit, with and
 * without DP (server/graph-deploy.test.ts; with dpNoise 'seeded', the coordinator's default being the CSPRNG).
 */
import { FedAvg } from '../federated/fedavg.js';
import { fillUniform } from '../math/kernels.js';
import { Rng } from '../math/rng.js';
import { paramInfo } from '../models/params.js';
import { ConfigError, serverOptimizerOf, type TrainConfig } from '../runtime/config.js';
import { graphSettings } from '../runtime/graph-settings.js';
import { registerStrategy, type StrategyEntry } from '../server/strategies.js';
import { lightGcnPlanSchema, LIGHTGCN_WORK } from './lightgcn-device.js';

function checked(c: TrainConfig): ReturnType<typeof graphSettings> {
  if (c.usersPerClient !== 1) throw new ConfigError(`training.usersPerClient: federated ${c.model} trains one ego-graph per device, so usersPerClient must be 1, got ${c.usersPerClient}`);
  if (c.download !== 'f32') throw new ConfigError(`training.download '${c.download}': federated ${c.model} deploys with float32 downloads only (its simulation trains on the exact item table)`);
  return graphSettings(c);
}

const entry: StrategyEntry = {
  clientWork: LIGHTGCN_WORK,
  model: (c, nItems) => {
    const s = checked(c);
    return {
      info: [paramInfo('itemEmb', nItems, s.dim, 'item'), paramInfo('userEmb', 0, s.dim, 'user')],
      plan: { kind: c.model, dim: s.dim },
      // the simulation's initial item table (runtime/graph-federated.ts)
      init: () => ({ itemEmb: fillUniform(new Float32Array(nItems * s.dim), Math.sqrt(6 / (nItems + s.dim)), Rng.derive(s.seed, 'init-global')) }),
    };
  },
  create: ({ info, nItems, training }) => new FedAvg(info, nItems, { serverOptimizer: serverOptimizerOf(training), rowAveraging: training.rowAveraging }),
  planExtras: (c) => {
    const s = checked(c);
    return { lightgcn: lightGcnPlanSchema.parse({ dim: s.dim, layers: s.layers, reg: s.reg, batch: s.batch, optimizer: s.optimizer, seed: s.seed, ncl: s.ncl }) };
  },
};

registerStrategy('fedavg/lightgcn', entry);
registerStrategy('fedavg/ncl', entry);
