/**
 * One training run end to end: load (or generate) data → split with fixed evaluation negatives →
 * train centrally or by federated simulation → evaluate on validation and test with the sampled
 * and full protocols → baselines in the same run → the EVALUATION.md result document.
 */
import type { ClientData } from '../federated/types.js';
import { loadConfiguredDataset, loadConfiguredSplit, modelConfigOf, splitDataset } from '../config/configured-data.js';
import { NegativeSampler } from '../data/negatives.js';
import { rowOf } from '../data/user-items.js';
import type { Dataset, EvalPart, ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer, randomScorer } from '../eval/baselines.js';
import type { RankingResult, Scorer } from '../eval/types.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import type { LocalParams, RecModel } from '../models/types.js';
import { FedAvg } from '../federated/fedavg.js';
import { tableSlots } from '../secagg/fixed-point.js';
import { SecureSum, secureInner } from '../secagg/secure-sum.js';
import { DEFAULT_THRESHOLD } from '../secagg/settings.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { algorithmNamed, serverContextOf } from '../algorithms/context.js';
import { deviceWork } from '../algorithms/registry.js';
import type { ResultDocument } from '../report/result.js';
import { ConfigError, clientOptimizerOf, effectiveBatch, recencyOf, type TrainConfig } from '../config/config.js';
import { buildResult } from './result-builder.js';
import { repeatRecent } from '../train/recency.js';
import type { UserPositives } from '../train/examples.js';
import { trainRecencyOf } from '../data/recency.js';
import { trainCentral } from '../simulation/central.js';
import { trainGraph } from './graph-experiment.js';
import { trainIals } from './ials-experiment.js';
import { isGraphModel } from '../config/graph-defaults.js';
import { partitionClients } from '../federated/partition.js';
import { BestCheckpoint, selectingProbe } from '../simulation/selection.js';
import { FederatedSimulation, initGlobal } from '../simulation/simulation.js';
import { ParallelSimulation, shareGlobal } from '../simulation/parallel-simulation.js';
import type { HistoryEntry, ProgressListener } from '../report/history.js';
import { downloadedModel } from '../wire/quantize.js';
import { DpAggregator, poissonSample, type PrivacyReport } from '../privacy/dp-fedavg.js';
import { dpSettingsOf } from '../privacy/dp-config.js';
import { checkNegativeRoom } from '../data/negative-room.js';

// The data and model a config names live in configured-data.ts (the coordinator and the CLI read them too).
export { loadConfiguredDataset, loadConfiguredSplit, modelConfigOf, splitDataset, type ConfiguredSplit } from '../config/configured-data.js';

export interface TrainedRun {
  readonly result: ResultDocument;
  readonly model: RecModel;
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
}

/** The parts a run evaluates, and its config with selection on the last round when there is no validation part. */
export function evaluationPlan(c: TrainConfig, hasValidation: boolean): { config: TrainConfig; parts: EvalPart[] } {
  return hasValidation ? { config: c, parts: ['validation', 'test'] } : { config: { ...c, select: 'last' }, parts: ['test'] };
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

/** Engine switches that must not change results (benches compare them): `simd: false` forces generic MF clients. */
export interface EngineOptions {
  readonly simd?: boolean;
  /** A data set built in memory (benchmarks) instead of the one the config names. */
  readonly preloaded?: Dataset;
  /**
   * Fold each round through the fixed-point ring sum a secure-aggregation round computes
   * (secagg/secure-sum.ts; no cryptography in simulation), with this per-value clip. With
   * distributed DP, `threshold` (default 0.6, as `coordinator.secureAggregation`) is also the floor
   * τ on contributors the accountant charges for (privacy/secure-dp.ts).
   */
  readonly secureSum?: { readonly clip: number; readonly threshold?: number };
  /**
   * Devices outside the data set (e.g. a browser tab with its own ratings), appended after the
   * partition's clients (their ids follow on): trained and aggregated, not evaluated.
   */
  readonly extraClients?: readonly ClientData[];
  /** Who is folded in each round (a deployment's contributors after drop-outs); default: the sampled clients. */
  readonly contributors?: (round: number) => Int32Array;
}

/** Simulation options outside the training config. */
export type RunOptions = EngineOptions;

export async function runTraining(given: TrainConfig, onProgress?: ProgressListener, engine: EngineOptions = {}): Promise<TrainedRun> {
  if (given.algorithm === 'fedrecon') throw new ConfigError("algorithm 'fedrecon' runs through runFedReconTraining (recipes/fedrecon-experiment.ts)");
  const started = performance.now();
  const { dataset, split, hasValidation } = await loadConfiguredSplit(given, engine.preloaded);
  const { config: c, parts } = evaluationPlan(given, hasValidation);
  if (c.model !== 'ials') checkNegativeRoom(split, c.data ?? dataset.name, dataset.userIds); // iALS weighs every unobserved item; it samples no negatives
  const config = modelConfigOf(c);
  const probeOpts = { part: 'validation' as const, protocols: ['sampled' as const], ks: c.k };
  const probeValidation = (m: Scorer): RankingResult => (hasValidation ? evaluateRanking(m, split, probeOpts) : {});
  const selection = new BestCheckpoint(c.k[0]);
  const keepBest = selectingProbe(selection, probeValidation);
  let model: RecModel;
  let history: HistoryEntry[];
  let privacy: PrivacyReport | undefined;

  if (c.model === 'ials') {
    ({ model, history } = trainIals(c, split, keepBest, onProgress));
  } else if (isGraphModel(c.model)) {
    ({ model, history, privacy } = trainGraph(c, split, keepBest, onProgress, engine.secureSum));
  } else if (c.mode === 'central') {
    model = createModel(config, split.nUsers, split.nItems, { seed: c.seed });
    const positives = centralPositives(split, c);
    const central = model;
    history = trainCentral(
      central,
      positives,
      new NegativeSampler(split),
      { epochs: c.epochs, batch: effectiveBatch(c), loss: c.loss, negatives: c.negatives, optimizer: clientOptimizerOf(c), evalEvery: c.evalEvery, seed: c.seed },
      (epoch) => keepBest(central, epoch),
      onProgress,
    );
  } else {
    const partition = partitionClients(split, c.usersPerClient, c.seed);
    const clients = engine.extraClients ? [...partition, ...engine.extraClients] : partition;
    const perRound = c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length));
    const info = modelParamInfo(config, 0, split.nItems);
    const global = initGlobal(config, split.nItems, c.seed);
    const algorithm = algorithmNamed(c.algorithm);
    const inner = algorithm.server(serverContextOf(c, info, split.nItems));
    const baseDp = dpSettingsOf(c, clients.length);
    const dpSettings = baseDp && engine.secureSum && baseDp.mode === 'distributed' ? { ...baseDp, minFraction: engine.secureSum.threshold ?? DEFAULT_THRESHOLD } : baseDp;
    const dp = dpSettings ? new DpAggregator(inner, info, split.nItems, dpSettings, () => clients.length) : null;
    const strategy = dp ?? inner;
    const simOptions = {
      rounds: c.rounds,
      clientsPerRound: Math.min(perRound, clients.length),
      evalEvery: c.evalEvery,
      seed: c.seed,
      plan: { model: config, loss: c.loss, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives, optimizer: clientOptimizerOf(c), recency: recencyOf(c), dp: dp?.clientPlan(), ...algorithm.plan(c) },
      download: { precision: c.download, info },
      select: engine.contributors ?? (dpSettings ? (round: number) => poissonSample(clients.length, dpSettings.samplingRate, c.seed, round) : undefined),
    };
    const probe = (round: number) => keepBest(assembled(), round);
    let sim: { assembleLocal(nUsers: number): LocalParams };
    let shared = global;
    // evaluated with the item tables as the devices decode them (the same arrays at f32)
    const assembled = () => createModel(config, split.nUsers, split.nItems, { global: downloadedModel(shared, info, c.download), local: sim.assembleLocal(split.nUsers) });
    if (c.workers > 1 && (engine.secureSum || engine.extraClients || engine.contributors)) throw new ConfigError('a secure-sum simulation (extra clients, given contributors) runs with workers 1');
    if (c.workers > 1) {
      const { global: sharedGlobal, buffers } = shareGlobal(global);
      shared = sharedGlobal;
      if (!(inner instanceof FedAvg) || !algorithm.capabilities.workers) throw new ConfigError(`algorithm '${c.algorithm}' with aggregation '${c.aggregation}' runs on one thread (--workers 1)`);
      const parallel = new ParallelSimulation(split, sharedGlobal, buffers, info, algorithm.name, inner, { ...simOptions, workers: c.workers, usersPerClient: c.usersPerClient });
      sim = parallel;
      history = await parallel.run(probe, onProgress);
    } else {
      const samplers = clients.map((client) => clientNegativeSource(split.nItems, client));
      const work = deviceWork(algorithm);
      const folding = engine.secureSum
        ? new SecureSum(secureInner(strategy), { tables: tableSlots(info), nItems: split.nItems, participants: simOptions.clientsPerRound, clip: engine.secureSum.clip, weighting: c.clientWeighting })
        : strategy;
      // Poisson-sampled secure rounds: the fixed-point scale follows each round's planned clients, as the coordinator's
      // (given contributors are a deployment's survivors: the scale stays that of the planned clients)
      const select = simOptions.select && folding instanceof SecureSum && !engine.contributors
        ? (round: number) => { const chosen = (simOptions.select as (r: number) => Int32Array)(round); folding.setParticipants(chosen.length); return chosen; }
        : simOptions.select;
      const sequential = new FederatedSimulation(clients, global, folding,
        // FedAvg's fold sums each update as it arrives: the MF client need not copy its deltas out
        (plan, g, client, state) => work(plan, g, client, state, samplers[client.clientId], { simd: engine.simd, transientUpdate: folding instanceof FedAvg }), { ...simOptions, select });
      sim = { assembleLocal: (nUsers) => sequential.assembleLocal(nUsers, partition.length) };
      history = sequential.run(probe, onProgress);
    }
    privacy = dp?.report(history.length);
    model = assembled();
  }
  const chosen = c.select === 'best' ? selection.best : null;
  if (chosen) model = createModel(model.config, model.nUsers, model.nItems, chosen);
  const final = evaluateParts(model, split, c, parts);
  const popularity = evaluateParts(popularityScorer(split), split, c, parts);
  const random = evaluateParts(randomScorer(split.nItems, c.seed), split, c, parts);
  const result = buildResult({
    dataset, split: split.method, config: c, selectedRound: chosen ? selection.round : history.length,
    metrics: final, baselines: { popularity, random }, history, started, privacy,
  });
  return { result, model, dataset, split };
}
