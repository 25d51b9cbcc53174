/**
 * A text-graph run end to end (UFGraphFR: Wang, Hao, Xiao, J. Supercomputing 2026, arXiv
 * 2501.08044; GPFedRec: Zhang et al., KDD 2024), with the EVALUATION.md protocol and result document:
 *  1. load data, split (leave-one-out by time, fixed evaluation negatives);
 *  2. user texts from side information (or --user-text), optionally ablated (shuffled among users,
 *     or random unit vectors instead of encodings), encoded once (cached on disk);
 *  3. train (each user's latest positives weighted up when recency weighting is on, and read by e_u
 *     with the recent-items term, in every mode):
 *     centrally (one model, shared item table, no λ term), or federated with FedAvg (item
 *     rows and head averaged; nothing personal uploaded) or graph aggregation (graph.ts);
 *     per round: sample clients, each downloads θ, the head and its personal rows, trains
 *     (text-graph-client.ts) and uploads; the strategy aggregates; validation is probed;
 *  4. evaluate validation and test with each user's joint layer and personalised table (test's
 *     recent items are train's, or with the protocol option `testHistory` 'train+validation'
 *     start with the validation item; `splitRecentItems`);
 *     popularity and random baselines in the same run.
 */
import { NegativeSampler } from '../data/negatives.js';
import type { Dataset, EvalPart, ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer, randomScorer } from '../eval/baselines.js';
import type { Scorer } from '../eval/types.js';
import { Rng } from '../math/rng.js';
import { RowSparseGrads } from '../models/params.js';
import type { GlobalParams, Grads, ParamInfo } from '../models/types.js';
import { paramInfo } from '../models/params.js';
import { freshJoint, headParamInfo, initJointLayer, initTextGraphGlobal, selectTextInputs, TextGraphModel, textInputs, recentItemsOf, type TextGraphConfig, type TextInputs, type RecentItems } from '../models/text-graph/model.js';
import { latestEntries, trainRecencyOf } from '../data/recency.js';
import { rowOf } from '../data/user-items.js';
import { PersonalisedScorer } from '../models/text-graph/scorer.js';
import { createOptimizer } from '../optim/registry.js';
import { FedAvg } from '../federated/fedavg.js';
import { GraphAggregation, type GraphOptions } from '../federated/graph.js';
import { graphAggregationOptions, textGraphConfigOf } from '../algorithms/graph.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { runTextGraphClientRound, type TextGraphPlan } from '../federated/text-graph-client.js';
import type { PersonalRows } from '../federated/personal-types.js';
import type { Strategy } from '../federated/types.js';
import { updateBytes } from '../federated/bytes.js';
import { buildEpochExamples } from '../train/examples.js';
import { fitEpoch } from '../train/fit.js';
import { createTextEncoder } from '../text/encoders.js';
import { reportStatus } from '../report/status.js';
import { checkNegativeRoom } from '../data/negative-room.js';
import { readUserTextFile, userTexts } from '../text/user-text.js';
import type { ResultDocument } from '../report/result.js';
import { ConfigError, clientOptimizerOf, effectiveBatch, recencyOf, serverOptimizerOf, type TrainConfig } from '../config/config.js';
import { centralPositives, evaluateParts, evaluationPlan, loadConfiguredSplit } from './experiment.js';
import { buildResult } from './result-builder.js';
import { partitionClients, sampleClients } from '../federated/partition.js';
import { selectionScore } from '../simulation/selection.js';
import type { HistoryEntry, ProgressListener } from '../report/history.js';
import { InProcessClients, runRoundsSync } from '../simulation/round-engine.js';
import { runEpochs } from '../simulation/epoch-engine.js';
import { hashRoundSeed } from '../simulation/simulation.js';

export interface TextGraphRun {
  readonly result: ResultDocument;
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
  /** The trained global tables after the last round / epoch (θ and the head). */
  readonly global: GlobalParams;
  /** Graph aggregation: user u's personal rows after the last round (what a deployment sends it). */
  readonly personal?: (u: number) => PersonalRows | null;
}

/** The users' text vectors [nUsers, textDim] per the config's encoder and ablation. */
export async function userTextVectors(c: TrainConfig, dataset: Dataset): Promise<{ vectors: Float32Array; dim: number; encoder: string }> {
  const texts = userTexts(dataset, c.userText ? readUserTextFile(c.userText) : undefined);
  reportStatus(`loading the '${c.encoder}' text encoder`);
  const encoder = await createTextEncoder({ kind: c.encoder, model: c.encoderModel, cacheRoot: c.cacheDir, seed: c.seed });
  const dim = encoder.dim;
  const vectors = new Float32Array(dataset.nUsers * dim);
  if (c.textAblation === 'random') {
    const rng = Rng.derive(c.seed, 'random-text');
    for (let u = 0; u < dataset.nUsers; u++) {
      const v = vectors.subarray(u * dim, (u + 1) * dim);
      for (let k = 0; k < dim; k++) v[k] = rng.normal();
      const norm = Math.hypot(...v);
      for (let k = 0; k < dim; k++) v[k] /= norm;
    }
    return { vectors, dim, encoder: `random unit vectors (${dim}-d)` };
  }
  const order = c.textAblation === 'shuffle' ? Rng.derive(c.seed, 'shuffle-text').shuffle(texts.map((_, u) => u)) : null;
  reportStatus(`encoding ${texts.length} user texts with ${encoder.id} (cached after the first run)`);
  const encoded = await encoder.encode(order ? order.map((u) => texts[u]) : texts);
  encoded.forEach((v, u) => vectors.set(v, u * dim));
  return { vectors, dim, encoder: encoder.id };
}

export { textGraphConfigOf };

/**
 * Every user's `k` latest positives before the interaction being predicted, as item ids (the
 * recent-items term), or null when k is 0: the latest train positives, for training and validation.
 * With `withValidation` (test, `testHistory` 'train+validation') under leave-one-out by time, the
 * validation item comes first: it is the interaction just before the test one, which the device has
 * seen, as sequential recommenders evaluate (SASRec, Kang & McAuley, ICDM 2018; NCF's protocol even
 * trains on it). It is never trained on here, and it is no test candidate in either protocol. Other
 * splits have no such order: there the option is refused. The default protocol is 'train'.
 */
export function splitRecentItems(split: ImplicitSplit, k: number, withValidation = false): RecentItems | null {
  if (k === 0) return null;
  if (withValidation && split.method !== 'leave-one-out-time') {
    throw new ConfigError(`testHistory 'train+validation' needs leave-one-out by time (the validation item is then the interaction just before the test one); this split is ${split.method}`);
  }
  const afterTrain = withValidation;
  return recentItemsOf(Array.from({ length: split.nUsers }, (_, u) => {
    const seen = afterTrain ? rowOf(split.validation, u).slice(0, k) : new Int32Array(0);
    const train = latestEntries(rowOf(split.train, u), trainRecencyOf(split, u), k - seen.length);
    return seen.length === 0 ? train : Int32Array.from([...seen, ...train]);
  }));
}

/** The recent items e_u reads for each evaluation part under config c; validation's are training's too. */
function recentItemsByPart(split: ImplicitSplit, c: TrainConfig): Readonly<Record<EvalPart, RecentItems | null>> {
  return { validation: splitRecentItems(split, c.recentItems), test: splitRecentItems(split, c.recentItems, c.testHistory === 'train+validation') };
}

/** The scorer of each evaluation part: they differ in the recent items e_u reads (`recentItemsByPart`). */
type PartScorers = Readonly<Record<EvalPart, Scorer>>;

/** Validation and test metrics, each part with its own scorer. */
function evaluateBothParts(scorers: PartScorers, split: ImplicitSplit, c: TrainConfig): ReturnType<typeof evaluateParts> {
  return { ...evaluateParts(scorers.validation, split, c, ['validation']), ...evaluateParts(scorers.test, split, c, ['test']) };
}

/** A client round's plan under config c, but for its round and seed; `uploadUsers` for graph aggregation. */
export function textGraphPlanOf(c: TrainConfig, cfg: TextGraphConfig, uploadUsers: boolean): Omit<TextGraphPlan, 'round' | 'seed'> {
  return {
    model: cfg, localEpochs: c.localEpochs, batch: effectiveBatch(c), negatives: c.negatives,
    optimizer: clientOptimizerOf(c), uploadUsers, dpLaplace: c.dpLaplace,
    recency: recencyOf(c),
  };
}

/** Graph aggregation's options under config c (neighbours, layers, norm, sketch, personal rows, server optimiser). */
export function graphOptionsOf(c: TrainConfig): GraphOptions {
  return graphAggregationOptions(c, serverOptimizerOf(c));
}

export async function runTextGraphTraining(given: TrainConfig, onProgress?: ProgressListener): Promise<TextGraphRun> {
  const started = performance.now();
  const { dataset, split, hasValidation } = await loadConfiguredSplit(given);
  const { config: c, parts } = evaluationPlan(given, hasValidation);
  checkNegativeRoom(split, c.data ?? dataset.name, dataset.userIds);
  const text = await userTextVectors(c, dataset);
  const cfg = textGraphConfigOf(c, text.dim);
  const inputs = textInputs(cfg, text.vectors, initJointLayer(cfg, Rng.derive(c.seed, 'init-joint')));
  const probeOpts = { part: 'validation' as const, protocols: ['sampled' as const], ks: c.k };
  // Model selection on validation (EVALUATION.md, simulation/selection.ts): when a probe is the best so
  // far, the model of that round is evaluated on validation and test at once — what restoring its
  // checkpoint at the end would give, without copying every user's personal tables.
  let best: { score: number; round: number; parts: ReturnType<typeof evaluateParts> } | null = null;
  const probe: Probe = (scorers, round) => {
    const validation = hasValidation ? evaluateRanking(scorers.validation, split, probeOpts) : {};
    const score = selectionScore(validation, c.k[0]);
    if (c.select === 'best' && score !== undefined && score > (best?.score ?? -Infinity)) {
      best = { score, round, parts: evaluateBothParts(scorers, split, c) };
    }
    return validation;
  };
  const trained = c.mode === 'central'
    ? trainCentralTextGraph(c, cfg, split, inputs, probe, onProgress)
    : trainFederatedTextGraph(c, cfg, split, inputs, probe, onProgress);
  const chosen = best as { round: number; parts: ReturnType<typeof evaluateParts> } | null;
  const final = chosen?.parts ?? (hasValidation ? evaluateBothParts(trained.scorers, split, c) : evaluateParts(trained.scorers.test, split, c, ['test']));
  // The test-history protocol applies to the baselines that can read a history: popularity at test
  // then counts the validation interactions too.
  const popularity = {
    ...evaluateParts(popularityScorer(split), split, c, parts.filter((p) => p === 'validation')),
    ...evaluateParts(popularityScorer(split, c.testHistory === 'train+validation'), split, c, ['test']),
  };
  const random = evaluateParts(randomScorer(split.nItems, c.seed), split, c, parts);
  const history = trained.history;
  const result = buildResult({
    dataset, split: split.method, config: c, configExtras: { encoderId: text.encoder, textDim: text.dim }, selectedRound: chosen?.round ?? history.length,
    metrics: final, baselines: { popularity, random }, history, started,
  });
  return { result, dataset, split, global: trained.global, ...(trained.personal ? { personal: trained.personal } : {}) };
}

type Probe = (scorers: PartScorers, round: number) => HistoryEntry['validation'];

interface Trained {
  readonly scorers: PartScorers;
  readonly history: HistoryEntry[];
  readonly global: GlobalParams;
  readonly personal?: (u: number) => PersonalRows | null;
}

/** The centralised reference: one model over all users and the whole item table, no λ term. */
function trainCentralTextGraph(c: TrainConfig, cfg: TextGraphConfig, split: ImplicitSplit, texts: TextInputs, probe: Probe, onProgress?: ProgressListener): Trained {
  const global = initTextGraphGlobal(cfg, split.nItems, Rng.derive(c.seed, 'init-global'));
  const local = freshJoint(cfg, split.nUsers);
  const recent = recentItemsByPart(split, c);
  const model = new TextGraphModel(cfg, split.nUsers, split.nItems, { global, local }, texts, null, recent.validation);
  // the test scorer shares the trained tables; built at each probe, so its per-user caches are fresh
  const scorers = (): PartScorers => ({ validation: model, test: new TextGraphModel(cfg, split.nUsers, split.nItems, model.params, texts, null, recent.test) });
  // recency weighting as on the federated clients (train/recency.ts), so the rows compare like for like
  const positives = centralPositives(split, c);
  const sampler = new NegativeSampler(split);
  const grads = new RowSparseGrads(model.info);
  const optimizer = createOptimizer(clientOptimizerOf(c));
  const tables = { ...global, ...local };
  const trainable = model.info.map((p) => p.name);
  const hook = (g: Grads) => model.endBatch(g);
  const history = runEpochs(c, (epoch) => {
    const examples = buildEpochExamples(positives, sampler, 'bce', c.negatives, Rng.derive(c.seed, 'train-negatives', epoch));
    return fitEpoch(model, examples, 'bce', effectiveBatch(c), grads, optimizer, tables, trainable, hook);
  }, (epoch) => probe(scorers(), epoch), onProgress);
  return { scorers: scorers(), history, global };
}

function trainFederatedTextGraph(c: TrainConfig, cfg: TextGraphConfig, split: ImplicitSplit, texts: TextInputs, probe: Probe, onProgress?: ProgressListener): Trained {
  const clients = partitionClients(split, c.usersPerClient, c.seed);
  const perRound = Math.min(clients.length, c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length)));
  const global = initTextGraphGlobal(cfg, split.nItems, Rng.derive(c.seed, 'init-global'));
  const headInfo = headParamInfo(cfg);
  const itemInfo: ParamInfo = paramInfo('item', split.nItems, cfg.dim, 'item');
  const graph = c.algorithm === 'graph'
    ? new GraphAggregation(global, split.nUsers, split.nItems, cfg.textDim * cfg.dim, headInfo, graphOptionsOf(c))
    : null;
  const strategy: Strategy = graph ?? new FedAvg([itemInfo, ...headInfo], split.nItems, {
    serverOptimizer: serverOptimizerOf(c),
    rowAveraging: c.rowAveraging,
  });
  const personal = (u: number): PersonalRows | null => graph?.personal(u) ?? null;
  const samplers = clients.map((client) => clientNegativeSource(split.nItems, client));
  const clientTexts = clients.map((client) => selectTextInputs(cfg, texts, client.users));
  const planBase = textGraphPlanOf(c, cfg, graph !== null);
  const globalBytes = Object.values(global).reduce((s, v) => s + v.length * 4, 0);
  const recent = recentItemsByPart(split, c);
  const executor = new InProcessClients<TextGraphPlan>(clients, ({ plan }) => (k, state) => {
    const client = clients[k];
    const download = { global, personal: (j: number) => personal(client.users[j]) };
    let bytesDown = 0;
    for (const u of client.users) bytesDown += globalBytes + (personal(u)?.delta.length ?? 0) * 4 + (personal(u)?.rows.length ?? 0) * 4;
    const result = runTextGraphClientRound(plan, download, client, clientTexts[k], state, samplers[k]);
    const bytesUp = updateBytes(result.update) + result.update.users.reduce((s, up) => s + 4 * (up.weightVector.length + up.rows.length + up.itemRows.length), 0);
    return { update: result.update, state: result.state, bytesUp, bytesDown };
  });
  const states = executor.states;
  const scorers = (): PartScorers => {
    const local = freshJoint(cfg, split.nUsers);
    clients.forEach((client, k) => {
      const s = states[k];
      if (!s) return;
      client.users.forEach((u, j) => {
        local.jointA.set(s.local.jointA.subarray(j * cfg.dim, (j + 1) * cfg.dim), u * cfg.dim);
        local.jointB.set(s.local.jointB.subarray(j * cfg.dim, (j + 1) * cfg.dim), u * cfg.dim);
      });
    });
    const scorerOf = (part: EvalPart): Scorer => new PersonalisedScorer(new TextGraphModel(cfg, split.nUsers, split.nItems, { global: global as GlobalParams, local }, texts, null, recent[part]), personal);
    return { validation: scorerOf('validation'), test: scorerOf('test') };
  };
  const history = runRoundsSync({
    schedule: {
      rounds: c.rounds,
      evalEvery: c.evalEvery,
      plan: (round): TextGraphPlan => ({ ...planBase, round, seed: hashRoundSeed(c.seed, round) }),
      select: (round) => sampleClients(clients.length, perRound, c.seed, round),
    },
    fold: strategy,
    global,
    executor,
    probe: (round) => probe(scorers(), round),
    onProgress,
  });
  return { scorers: scorers(), history, global, ...(graph ? { personal } : {}) };
}
