/**
 * One training run end to end: load (or generate) data → split with fixed evaluation negatives →
 * train centrally or by federated simulation → evaluate on validation and test with the sampled
 * and full protocols → baselines in the same run → the EVALUATION.md result document.
 */
import { loadDataset } from '../data/readers.js';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut, ratioSplit } from '../data/split.js';
import { NegativeSampler } from '../data/negatives.js';
import { rowOf } from '../data/user-items.js';
import type { Dataset, EvalPart, ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer, randomScorer } from '../eval/baselines.js';
import type { RankingResult, Scorer } from '../eval/types.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import type { LocalParams, ModelConfig, RecModel } from '../models/types.js';
import { FedAvg } from '../federated/fedavg.js';
import { tableSlots } from '../secagg/fixed-point.js';
import { SecureSum } from '../secagg/secure-sum.js';
import { clientNegativeSource, runClientRound } from '../federated/client-work.js';
import type { ResultDocument, SplitMetrics } from '../report/result.js';
import { ConfigError, clientOptimizerOf, effectiveBatch, effectiveLr, recencyOf, serverOptimizerOf, type TrainConfig } from './config.js';
import { repeatRecent } from '../train/recency.js';
import type { UserPositives } from '../train/examples.js';
import { trainRecencyOf } from '../data/recency.js';
import { trainCentral } from './central.js';
import { trainGraph } from './graph-experiment.js';
import { isGraphModel } from './graph-defaults.js';
import { partitionClients } from './clients.js';
import { BestCheckpoint } from './selection.js';
import { cloneParams } from '../models/params.js';
import { FederatedSimulation, initGlobal } from './simulation.js';
import { ParallelSimulation, shareGlobal } from './parallel-simulation.js';
import type { HistoryEntry, ProgressListener } from './types.js';

export interface TrainedRun {
  readonly result: ResultDocument;
  readonly model: RecModel;
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
}

export async function loadConfiguredDataset(c: TrainConfig): Promise<Dataset> {
  if (c.data) {
    return loadDataset({ path: c.data, format: c.format, columns: c.columns, sep: c.sep, ratingThreshold: c.ratingThreshold });
  }
  return generateSynthetic({
    users: c.syntheticUsers,
    items: c.syntheticItems,
    interactions: c.syntheticInteractions,
    seed: c.seed,
  });
}

/** `loo` → leave-one-out (by time when timestamps exist); `ratio:0.8,0.1,0.1` → per-user ratio split. */
export function splitDataset(ds: Dataset, spec: string, seed: number): ImplicitSplit {
  if (spec === 'loo') return leaveOneOut(ds, { seed });
  const m = /^ratio:([\d.]+),([\d.]+),([\d.]+)$/.exec(spec);
  if (!m) throw new ConfigError(`split: expected 'loo' or 'ratio:TRAIN,VALID,TEST' (e.g. ratio:0.8,0.1,0.1), got '${spec}'`);
  return ratioSplit(ds, { ratios: [Number(m[1]), Number(m[2]), Number(m[3])], seed });
}

export function modelConfigOf(c: TrainConfig): ModelConfig {
  return c.model === 'neumf' ? { kind: 'neumf', dim: c.dim, mlpDim: c.dim, layers: c.layers } : { kind: 'mf', dim: c.dim };
}

export function evaluateParts(scorer: Scorer, split: ImplicitSplit, c: TrainConfig, parts: readonly EvalPart[]): Partial<Record<EvalPart, RankingResult>> {
  const out: Partial<Record<EvalPart, RankingResult>> = {};
  for (const part of parts) out[part] = evaluateRanking(scorer, split, { part, protocols: c.eval, ks: c.k });
  return out;
}

/** Every user's train positives for a centralised trainer, with the config's recency weighting (as a federated client applies it). */
export function centralPositives(split: ImplicitSplit, c: TrainConfig): UserPositives[] {
  return Array.from({ length: split.nUsers }, (_, u) => ({ user: u, items: repeatRecent(rowOf(split.train, u), trainRecencyOf(split, u), recencyOf(c)) }));
}

/**
 * Simulation options outside the training config. `secureSum`: fold each round through the
 * fixed-point ring sum a secure-aggregation round computes (secagg/secure-sum.ts; no cryptography
 * in simulation), with this per-value clip.
 */
export interface RunOptions {
  readonly secureSum?: { readonly clip: number };
}

export async function runTraining(c: TrainConfig, onProgress?: ProgressListener, options: RunOptions = {}): Promise<TrainedRun> {
  if (c.algorithm === 'fedrecon') throw new ConfigError("algorithm 'fedrecon' runs through runFedReconTraining (runtime/fedrecon-experiment.ts)");
  const started = performance.now();
  const dataset = await loadConfiguredDataset(c);
  const split = splitDataset(dataset, c.split, c.seed);
  const config = modelConfigOf(c);
  const probeOpts = { part: 'validation' as const, protocols: ['sampled' as const], ks: c.k };
  const selection = new BestCheckpoint(c.k[0]);
  let model: RecModel;
  let history: HistoryEntry[];

  if (isGraphModel(c.model)) {
    ({ model, history } = trainGraph(c, split, (m, epoch) => {
      const validation = evaluateRanking(m, split, probeOpts);
      selection.consider(epoch, validation, () => cloneParams(m.params));
      return validation;
    }, onProgress));
  } else if (c.mode === 'central') {
    model = createModel(config, split.nUsers, split.nItems, { seed: c.seed });
    const positives = centralPositives(split, c);
    const central = model;
    history = trainCentral(
      central,
      positives,
      new NegativeSampler(split),
      { epochs: c.epochs, batch: effectiveBatch(c), loss: c.loss, negatives: c.negatives, optimizer: clientOptimizerOf(c), evalEvery: c.evalEvery, seed: c.seed },
      (epoch) => {
        const validation = evaluateRanking(central, split, probeOpts);
        selection.consider(epoch, validation, () => cloneParams(central.params));
        return validation;
      },
      onProgress,
    );
  } else {
    const clients = partitionClients(split, c.usersPerClient, c.seed);
    const perRound = c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length));
    const info = modelParamInfo(config, 0, split.nItems);
    const global = initGlobal(config, split.nItems, c.seed);
    const strategy = new FedAvg(info, split.nItems, {
      serverOptimizer: serverOptimizerOf(c),
      rowAveraging: c.rowAveraging,
    });
    const simOptions = {
      rounds: c.rounds,
      clientsPerRound: Math.min(perRound, clients.length),
      evalEvery: c.evalEvery,
      seed: c.seed,
      plan: { model: config, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives, optimizer: clientOptimizerOf(c), recency: recencyOf(c) },
    };
    const probe = (round: number) => {
      const current = assembled();
      const validation = evaluateRanking(current, split, probeOpts);
      selection.consider(round, validation, () => cloneParams(current.params));
      return validation;
    };
    let sim: { assembleLocal(nUsers: number): LocalParams };
    let shared = global;
    const assembled = () => createModel(config, split.nUsers, split.nItems, { global: shared, local: sim.assembleLocal(split.nUsers) });
    if (c.workers > 1 && options.secureSum) throw new ConfigError('a secure-sum simulation runs with workers 1');
    if (c.workers > 1) {
      const { global: sharedGlobal, buffers } = shareGlobal(global);
      shared = sharedGlobal;
      const parallel = new ParallelSimulation(split, sharedGlobal, buffers, info, strategy, { ...simOptions, workers: c.workers, usersPerClient: c.usersPerClient });
      sim = parallel;
      history = await parallel.run(probe, onProgress);
    } else {
      const samplers = clients.map((client) => clientNegativeSource(split.nItems, client));
      const folding = options.secureSum
      ? new SecureSum(strategy, { tables: tableSlots(info), nItems: split.nItems, participants: simOptions.clientsPerRound, clip: options.secureSum.clip, weighting: 'examples' })
      : strategy;
    const sequential = new FederatedSimulation(clients, global, folding,
        (plan, g, client, state) => runClientRound(plan, g, client, state, samplers[client.clientId]), simOptions);
      sim = sequential;
      history = sequential.run(probe, onProgress);
    }
    model = assembled();
  }
  const chosen = c.select === 'best' ? selection.best : null;
  if (chosen) model = createModel(model.config, model.nUsers, model.nItems, chosen);
  const final = evaluateParts(model, split, c, ['validation', 'test']);
  const popularity = evaluateParts(popularityScorer(split), split, c, ['validation', 'test']);
  const random = evaluateParts(randomScorer(split.nItems, c.seed), split, c, ['validation', 'test']);
  const totalSeconds = (performance.now() - started) / 1000;
  const trainSeconds = history.reduce((s, h) => s + h.seconds, 0);
  const result: ResultDocument = {
    dataset: { name: dataset.name, users: dataset.nUsers, items: dataset.nItems, interactions: dataset.interactions.users.length, split: split.method },
    config: { ...c, lr: effectiveLr(c), batch: effectiveBatch(c), selectedRound: chosen ? selection.round : history.length },
    metrics: { test: final.test as SplitMetrics, validation: final.validation as SplitMetrics },
    baselines: {
      popularity: { test: popularity.test, validation: popularity.validation },
      random: { test: random.test, validation: random.validation },
    },
    history,
    timing: { totalSeconds, secondsPerRound: history.length > 0 ? trainSeconds / history.length : 0 },
  };
  return { result, model, dataset, split };
}
