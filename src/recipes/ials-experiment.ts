/**
 * iALS runs (models/ials/solve.ts; Hu et al. 2008, Rendle et al. 2022): centralised alternating
 * closed-form solves, or federated iALS (federated/ials.ts, Ammad-ud-din et al. 2019) by in-process
 * simulation. Either way the model a probe sees has each user factor solved against the current
 * item factors (as a device scores), so central and federated runs are evaluated alike.
 */
import { buildUserItems } from '../data/user-items.js';
import type { ImplicitSplit, UserItems } from '../data/types.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import { downloadedModel } from '../wire/quantize.js';
import type { GlobalParams, RecModel } from '../models/types.js';
import { gramian, ialsObjective, solveAllRows } from '../models/ials/solve.js';
import { recencyConfidence } from '../federated/ials.js';
import { ialsHyperOf } from '../algorithms/ials.js';
import { algorithmNamed, serverContextOf } from '../algorithms/context.js';
import { deviceWork } from '../algorithms/registry.js';
import { runEpochs } from '../simulation/epoch-engine.js';
import { trainRecencyOf } from '../data/recency.js';
import type { ClientRunner } from '../simulation/simulation.js';
import { FederatedSimulation, initGlobal } from '../simulation/simulation.js';
import { partitionClients } from '../federated/partition.js';
import { clientOptimizerOf, recencyOf, type TrainConfig } from '../config/config.js';
import { modelConfigOf } from './experiment.js';
import type { HistoryEntry, ProgressListener } from '../report/history.js';

export { ialsHyperOf };

/** Each item's train users (the transpose of `train`), with the confidences of `train.values` when present. */
export function itemUsersOf(train: UserItems, nItems: number): UserItems {
  const nUsers = train.indptr.length - 1;
  const users = new Int32Array(train.indices.length);
  for (let u = 0; u < nUsers; u++) users.fill(u, train.indptr[u], train.indptr[u + 1]);
  return buildUserItems(nItems, train.indices, users, train.values);
}

/** The train positives with each pair's confidence as its value (federated/ials.ts `recencyConfidence`, as a device computes it). */
export function confidenceTrain(split: ImplicitSplit, c: TrainConfig): UserItems {
  const values = new Float32Array(split.train.indices.length).fill(1);
  for (let u = 0; u < split.nUsers; u++) {
    const conf = recencyConfidence(trainRecencyOf(split, u), recencyOf(c));
    if (conf) values.set(conf, split.train.indptr[u]);
  }
  return { indptr: split.train.indptr, indices: split.train.indices, values };
}

function itemCountsOf(train: UserItems, nItems: number): Int32Array {
  const counts = new Int32Array(nItems);
  for (const i of train.indices) counts[i]++;
  return counts;
}

export function trainIals(
  c: TrainConfig,
  split: ImplicitSplit,
  /** Validation probe of the model after `round` (epoch or round); the caller may keep the best. */
  probe: (model: RecModel, round: number) => HistoryEntry['validation'],
  onProgress?: ProgressListener,
): { model: RecModel; history: HistoryEntry[] } {
  return c.mode === 'central' ? trainIalsCentral(c, split, probe, onProgress) : trainIalsFederated(c, split, probe, onProgress);
}

/** Each epoch: every item solved against the user factors, then every user against the new item factors. */
function trainIalsCentral(c: TrainConfig, split: ImplicitSplit, probe: (model: RecModel, round: number) => HistoryEntry['validation'], onProgress?: ProgressListener) {
  const hyper = ialsHyperOf(c);
  const dim = c.dim;
  const model = createModel(modelConfigOf(c), split.nUsers, split.nItems, { seed: c.seed });
  const W = model.params.local.userEmb;
  const H = model.params.global.itemEmb;
  const train = confidenceTrain(split, c);
  const itemUsers = itemUsersOf(train, split.nItems);
  const counts = itemCountsOf(train, split.nItems);
  const history = runEpochs(c, () => {
    solveAllRows(H, W, dim, itemUsers, hyper);
    solveAllRows(W, H, dim, train, hyper);
    model.params.global.userGramian.set(Float32Array.from(gramian(W, dim)));
    return ialsObjective(W, H, dim, train, counts, hyper) / Math.max(1, train.indices.length);
  }, (epoch) => probe(model, epoch), onProgress);
  return { model, history };
}

/** The model a federated run is evaluated with: the global tables and every user solved against them. */
export function ialsModelOf(c: TrainConfig, split: ImplicitSplit, global: GlobalParams, train = confidenceTrain(split, c)): RecModel {
  const userEmb = new Float32Array(split.nUsers * c.dim);
  solveAllRows(userEmb, global.itemEmb, c.dim, train, ialsHyperOf(c));
  return createModel(modelConfigOf(c), split.nUsers, split.nItems, { global, local: { userEmb } });
}

function trainIalsFederated(c: TrainConfig, split: ImplicitSplit, probe: (model: RecModel, round: number) => HistoryEntry['validation'], onProgress?: ProgressListener) {
  const config = modelConfigOf(c);
  const clients = partitionClients(split, c.usersPerClient, c.seed);
  const perRound = c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length));
  const global = initGlobal(config, split.nItems, c.seed);
  const info = modelParamInfo(config, 0, split.nItems).filter((p) => p.scope === 'global');
  const algorithm = algorithmNamed(c.algorithm);
  const strategy = algorithm.server(serverContextOf(c, info, split.nItems));
  const work = deviceWork(algorithm);
  const noNegatives = { nItems: split.nItems, sample: () => undefined };
  const runner: ClientRunner = (plan, g, client, state) => work(plan, g, client, state, noNegatives);
  const sim = new FederatedSimulation(clients, global, strategy, runner, {
    rounds: c.rounds,
    clientsPerRound: Math.min(perRound, clients.length),
    evalEvery: c.evalEvery,
    seed: c.seed,
    plan: { model: config, loss: c.loss, localEpochs: c.localEpochs, batch: 1, negatives: 0, optimizer: clientOptimizerOf(c), recency: recencyOf(c), ...algorithm.plan(c) },
    download: { precision: c.download, info },
  });
  const train = confidenceTrain(split, c);
  // evaluated with the item factors as the devices decode them (the same arrays at f32)
  const seen = () => downloadedModel(global, info, c.download);
  const history = sim.run((round) => probe(ialsModelOf(c, split, seen(), train), round), onProgress);
  return { model: ialsModelOf(c, split, seen(), train), history };
}
