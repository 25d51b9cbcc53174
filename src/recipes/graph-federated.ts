/**
 * Federated LightGCN / NCL simulation (He et al. SIGIR 2020; Lin et al. WWW 2022; aggregation by
 * FedAvg, McMahan et al. AISTATS 2017). The server holds only the global item table. Round:
 *  1. sample clients (seeded per round);
 *  2. NCL after warm-up: the server runs the E-step, k-means on the global item table → item
 *     prototypes (normalised centroids [k, dim] and each item's cluster [nItems]), sent down
 *     with the table;
 *  3. each client trains on its ego-graph (federated/graph-client.ts) and returns the deltas of
 *     the item rows it holds — folded into FedAvg immediately (streaming);
 *  4. FedAvg averages each row over the clients that sent it and applies it (server optimiser).
 * Evaluation (simulation only): every client's user is propagated on its own ego-graph with the
 * final item table and scored against all items.
 * User-level DP (`--dp-clip`, privacy/dp-fedavg.ts, McMahan et al. ICLR 2018): the same DpAggregator
 * wraps FedAvg — the whole update (the item rows the client sent) clipped to C, uniform weights,
 * dense Gaussian noise on the item table, the fixed denominator qN, Poisson sampling at q.
 * Secure aggregation (`secureSum`, secagg/secure-sum.ts; Bell et al. CCS 2020): each update is encoded
 * in fixed point and summed mod 2^64, as the coordinator's secure rounds do, without the cryptography;
 * the scale follows each round's sampled clients. With DP it needs the distributed mode and charges z·√τ.
 */
import type { ImplicitSplit } from '../data/types.js';
import type { RankingResult } from '../eval/types.js';
import { globalBytes, updateBytes } from '../federated/bytes.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { FedAvg } from '../federated/fedavg.js';
import { egoUserEmbeddings, runGraphClientRound, type GraphRoundPlan } from '../federated/graph-client.js';
import { fillUniform } from '../math/kernels.js';
import { Rng } from '../math/rng.js';
import { dotProductModel } from '../models/lightgcn/model.js';
import { computePrototypes } from '../models/ncl/prototypes.js';
import { paramInfo } from '../models/params.js';
import type { RecModel } from '../models/types.js';
import { ConfigError, serverOptimizerOf, type TrainConfig } from '../config/config.js';
import type { GraphRun } from './graph-central.js';
import type { GraphSettings } from '../config/graph-settings.js';
import { partitionClients, sampleClients } from '../federated/partition.js';
import { DpAggregator, poissonSample, privatizeOnDevice } from '../privacy/dp-fedavg.js';
import { dpSettingsOf } from '../privacy/dp-config.js';
import { gaussianFor } from '../privacy/noise.js';
import type { ProgressListener } from '../report/history.js';
import { InProcessClients, runRoundsSync } from '../simulation/round-engine.js';
import { hashRoundSeed } from '../simulation/simulation.js';
import { SecureSum, secureInner } from '../secagg/secure-sum.js';
import { tableSlots } from '../secagg/fixed-point.js';
import { DEFAULT_THRESHOLD } from '../secagg/settings.js';

/** A secure-sum simulation: the fixed-point clip and the drop-out threshold τ (secagg/settings.ts). */
export interface SecureSumOption {
  readonly clip: number;
  readonly threshold?: number;
}

export function trainGraphFederated(
  s: GraphSettings,
  c: TrainConfig,
  split: ImplicitSplit,
  probe: (model: RecModel, epoch: number) => RankingResult,
  onProgress?: ProgressListener,
  secureSum?: SecureSumOption,
): GraphRun {
  const { nItems } = split;
  const dim = s.dim;
  if (c.usersPerClient !== 1) throw new ConfigError(`federated ${c.model}: usersPerClient must be 1 (one ego-graph per device), got ${c.usersPerClient}`);
  const clients = partitionClients(split, c.usersPerClient, s.seed);
  const perRound = Math.min(clients.length, c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length)));
  const itemEmb = fillUniform(new Float32Array(nItems * dim), Math.sqrt(6 / (nItems + dim)), Rng.derive(s.seed, 'init-global'));
  const global = { itemEmb };
  const strategy = new FedAvg([paramInfo('itemEmb', nItems, dim, 'item')], nItems, {
    serverOptimizer: serverOptimizerOf(c),
    rowAveraging: c.rowAveraging,
  });
  const baseDp = dpSettingsOf(c, clients.length);
  // distributed DP under secure aggregation: a released sum holds ≥ ⌈τ·m⌉ noise shares (as recipes/experiment.ts)
  const dpSettings = baseDp && secureSum && baseDp.mode === 'distributed' ? { ...baseDp, minFraction: secureSum.threshold ?? DEFAULT_THRESHOLD } : baseDp;
  const info = [paramInfo('itemEmb', nItems, dim, 'item')];
  const dp = dpSettings ? new DpAggregator(strategy, info, nItems, dpSettings, () => clients.length) : null;
  const secure = secureSum
    ? new SecureSum(secureInner(dp ?? strategy), { tables: tableSlots(info), nItems, participants: perRound, clip: secureSum.clip, weighting: strategy.bounds.weighting })
    : null;
  const samplers = clients.map((client) => clientNegativeSource(nItems, client));
  const executor = new InProcessClients<GraphRoundPlan>(clients, ({ plan }) => {
    const devicePlan = dp?.clientPlan();
    const prototypes = plan.ncl?.itemPrototypes;
    const down = globalBytes(global) + (prototypes ? 4 * (prototypes.centroids.length + prototypes.assignment.length) : 0);
    return (k, state) => {
      const result = runGraphClientRound(plan, itemEmb, clients[k], state, samplers[k]);
      // distributed DP: the device clips its update and adds its noise share before it leaves
      const update = devicePlan ? privatizeOnDevice(result.update, devicePlan, global, nItems, gaussianFor(devicePlan.noise, plan.seed, 'client', clients[k].clientId)) : result.update;
      return { update, state: result.state, bytesUp: updateBytes(update), bytesDown: down };
    };
  });
  const states = executor.states;
  const scoringModel = (): RecModel => {
    const users = new Float32Array(split.nUsers * dim);
    clients.forEach((client, k) => {
      const state = states[k];
      if (state) users.set(egoUserEmbeddings({ dim, layers: s.layers }, itemEmb, client, state), client.users[0] * dim);
    });
    return dotProductModel(split.nUsers, nItems, dim, users, itemEmb.slice());
  };
  const ncl = s.ncl;
  const history = runRoundsSync({
    schedule: {
      rounds: c.rounds,
      evalEvery: s.evalEvery,
      plan: (round): GraphRoundPlan => {
        const itemPrototypes = ncl && round > ncl.warmUp
          ? computePrototypes(itemEmb, dim, { clusters: ncl.clusters, iterations: ncl.kmeansIterations, seed: Rng.derive(s.seed, 'e-step-items', round).nextU32() })
          : null;
        return {
          round,
          seed: hashRoundSeed(s.seed, round),
          dim,
          layers: s.layers,
          reg: s.reg,
          localEpochs: c.localEpochs,
          batch: s.batch,
          optimizer: s.optimizer,
          ncl: ncl ? { loss: ncl, itemPrototypes } : null,
        };
      },
      select: (round) => {
        const chosen = dpSettings ? poissonSample(clients.length, dpSettings.samplingRate, c.seed, round) : sampleClients(clients.length, perRound, s.seed, round);
        secure?.setParticipants(chosen.length);
        return chosen;
      },
    },
    fold: secure ?? dp ?? strategy,
    global,
    executor,
    probe: (round) => probe(scoringModel(), round),
    onProgress,
  });
  return { model: scoringModel(), history, ...(dp ? { privacy: dp.report(history.length) } : {}) };
}
