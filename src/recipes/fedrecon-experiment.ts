/**
 * One Federated Reconstruction run end to end (Singhal et al., NeurIPS 2021; the round is stated in
 * federated/fedrecon.ts, the data and the unseen-user protocol in federated/fedrecon-data.ts):
 * load data → split users 80/10/10 → simulate FedRecon rounds over the training users only →
 * reconstruct every validation / test user from part of its data and score the rest → baselines in
 * the same run → the EVALUATION.md result document.
 *   explicit  MF on ratings with MSE (global bias initialised to the federated mean rating);
 *             RMSE, MAE, rating accuracy; baselines global mean, item mean, user+item bias.
 *   implicit  MF with BCE (or BPR) and fresh negatives; sampled and full ranking of held-out items;
 *             baselines popularity (training users' interactions) and random.
 */
import { Rng } from '../math/rng.js';
import { userSplit } from '../data/split.js';
import type { Dataset, EvalPart, ImplicitSplit } from '../data/types.js';
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer, randomScorer } from '../eval/baselines.js';
import type { RankingResult, Scorer } from '../eval/types.js';
import { evaluateUnseenExplicit, ratingBaselines, type UnseenRater, type UnseenUser } from '../eval/unseen-explicit.js';
import { createModel, modelParamInfo } from '../models/registry.js';
import type { GlobalParams, RecModel } from '../models/types.js';
import { clientNegativeSource, localPositives } from '../federated/client-work.js';
import { reconstructLocal, type PhaseOptions, type ReconstructionPlan } from '../federated/fedrecon.js';
import type { ClientData, RoundPlan } from '../federated/types.js';
import { algorithmNamed, serverContextOf } from '../algorithms/context.js';
import { deviceWork } from '../algorithms/registry.js';
import type { ResultDocument, SplitMetrics } from '../report/result.js';
import { DpAggregator, poissonSample } from '../privacy/dp-fedavg.js';
import { dpSettingsOf } from '../privacy/dp-config.js';
import { ConfigError, clientOptimizerOf, effectiveBatch, type TrainConfig } from '../config/config.js';
import { buildResult } from './result-builder.js';
import { loadConfiguredDataset, modelConfigOf, splitDataset, type RunOptions } from './experiment.js';
import { tableSlots } from '../secagg/fixed-point.js';
import { SecureSum, secureInner } from '../secagg/secure-sum.js';
import { DEFAULT_THRESHOLD } from '../secagg/settings.js';
import {
  allRows, explicitEvaluationUsers, federatedMeanRating, implicitEvaluationClients, rowsOfUsers, trainingClients,
} from '../federated/fedrecon-data.js';
import { FederatedSimulation, initGlobal } from '../simulation/simulation.js';
import type { ProgressListener } from '../report/history.js';

export interface FedReconRun {
  readonly result: ResultDocument;
  readonly dataset: Dataset;
  /** The trained global tables (what the server holds; there are no user tables to keep). */
  readonly global: GlobalParams;
}

export async function runFedReconTraining(c: TrainConfig, onProgress?: ProgressListener, options: RunOptions = {}): Promise<FedReconRun> {
  if (c.algorithm !== 'fedrecon') throw new ConfigError(`runFedReconTraining runs algorithm 'fedrecon', got '${c.algorithm}'`);
  const started = performance.now();
  const dataset = await loadConfiguredDataset(c);
  const explicit = c.feedback === 'explicit';
  if (explicit && !dataset.interactions.ratings) {
    throw new ConfigError(`feedback 'explicit' needs ratings, but ${dataset.name} has none (use --feedback implicit)`);
  }
  const users = userSplit(dataset.nUsers, c.userSplit, c.seed);
  const rows = allRows(dataset);
  const clients = trainingClients(rows, users.train);
  const config = modelConfigOf(c);
  const nItems = dataset.nItems;
  const global = initGlobal(config, nItems, c.seed);
  if (explicit) global.globalBias[0] = federatedMeanRating(clients);

  const plan: Omit<RoundPlan, 'round' | 'seed'> = {
    model: config,
    loss: explicit ? 'mse' : c.loss,
    localEpochs: c.localEpochs,
    batch: effectiveBatch(c),
    negatives: c.negatives,
    optimizer: clientOptimizerOf(c),
  };
  const reconstruction: PhaseOptions = { optimizer: { kind: c.reconOptimizer, lr: c.reconLr }, epochs: c.reconEpochs, stepsMax: c.reconStepsMax };
  const serverInfo = modelParamInfo(config, 0, nItems);
  const algorithm = algorithmNamed(c.algorithm);
  const inner = algorithm.server(serverContextOf(c, serverInfo, nItems));
  const baseDp = dpSettingsOf(c, clients.length);
  // under secure aggregation distributed DP is charged for the floor τ = threshold (privacy/secure-dp.ts)
  const dpSettings = baseDp && options.secureSum && baseDp.mode === 'distributed' ? { ...baseDp, minFraction: options.secureSum.threshold ?? DEFAULT_THRESHOLD } : baseDp;
  const dp = dpSettings ? new DpAggregator(inner, serverInfo, nItems, dpSettings, () => clients.length) : null;
  const strategy = dp ?? inner;
  const work = deviceWork(algorithm);
  const dummySampler = { nItems, sample: () => undefined };
  const samplers = clients.map((client) => (explicit ? null : clientNegativeSource(nItems, client)));
  const clientsPerRound = Math.min(clients.length, c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length)));
  const info = modelParamInfo(config, 0, nItems);
  const folding = options.secureSum
    ? new SecureSum(secureInner(strategy), { tables: tableSlots(info), nItems, participants: clientsPerRound, clip: options.secureSum.clip, weighting: c.clientWeighting })
    : strategy;
  const sim = new FederatedSimulation(
    clients,
    global,
    folding,
    (roundPlan, g, client, state) => work(roundPlan, g, client, state, samplers[client.clientId] ?? dummySampler),
    {
      rounds: c.rounds, clientsPerRound, evalEvery: c.evalEvery, seed: c.seed, plan: { ...plan, dp: dp?.clientPlan(), ...algorithm.plan(c) },
      select: dpSettings
        ? (round: number) => {
          const chosen = poissonSample(clients.length, dpSettings.samplingRate, c.seed, round);
          // the fixed-point scale follows each round's planned clients, as the coordinator's
          if (folding instanceof SecureSum) folding.setParticipants(chosen.length);
          return chosen;
        }
        : undefined,
    },
  );

  const evaluate = explicit
    ? explicitEvaluation(dataset, rows, users, plan, reconstruction, global, c)
    : implicitEvaluation(dataset, rows, users, plan, reconstruction, global, c);
  const history = sim.run(() => evaluate.model(['validation']).validation ?? {}, onProgress);
  const final = evaluate.model(['validation', 'test']);
  const result = buildResult({
    dataset,
    split: `users ${c.userSplit.join('/')} (${users.train.length}/${users.validation.length}/${users.test.length}); ${evaluate.heldOut}`,
    config: c, selectedRound: history.length, metrics: final, baselines: evaluate.baselines(), history, started,
    privacy: dp?.report(history.length),
  });
  return { result, dataset, global };
}

type PartMetrics = Partial<Record<EvalPart, SplitMetrics>>;

interface Evaluation {
  /** How evaluation users' data is divided into reconstruction and scored parts. */
  readonly heldOut: string;
  /** FedRecon on the evaluation users of `parts`, reconstructed from the current global tables. */
  model(parts: readonly EvalPart[]): PartMetrics;
  baselines(): ResultDocument['baselines'];
}

interface UserParts {
  readonly validation: Int32Array;
  readonly test: Int32Array;
  readonly train: Int32Array;
}

function explicitEvaluation(
  ds: Dataset,
  rows: ReturnType<typeof allRows>,
  users: UserParts,
  plan: ReconstructionPlan,
  reconstruction: PhaseOptions,
  global: GlobalParams,
  c: TrainConfig,
): Evaluation {
  const evalUsers = { validation: explicitEvaluationUsers(rows, users.validation, c.seed), test: explicitEvaluationUsers(rows, users.test, c.seed) };
  const score = (rater: UnseenRater, parts: readonly EvalPart[]): PartMetrics =>
    Object.fromEntries(parts.map((part) => [part, { explicit: evaluateUnseenExplicit(rater, evalUsers[part]) }]));
  return {
    heldOut: 'each evaluation user: alternate ratings reconstruct / are scored',
    model: (parts) => score(fedReconRater(plan, reconstruction, global, ds.nItems, c.seed), parts),
    baselines: () => {
      const training = trainingClients(rows, users.train).map((cl) => ({ items: cl.positives[0], ratings: cl.ratings[0]! }));
      const raters = ratingBaselines(training, ds.nItems);
      return Object.fromEntries(Object.entries(raters).map(([name, rater]) => [name, score(rater, ['test', 'validation'])]));
    },
  };
}

function implicitEvaluation(
  ds: Dataset,
  rows: ReturnType<typeof allRows>,
  users: UserParts,
  plan: ReconstructionPlan,
  reconstruction: PhaseOptions,
  global: GlobalParams,
  c: TrainConfig,
): Evaluation {
  const split = splitDataset(ds, c.split, c.seed);
  const clients = { validation: implicitEvaluationClients(split, users.validation, 'validation'), test: implicitEvaluationClients(split, users.test, 'test') };
  const rank = (scorer: Scorer, part: EvalPart): RankingResult =>
    evaluateRanking(scorer, split, { part, protocols: c.eval, ks: c.k, users: users[part] });
  return {
    heldOut: `held-out items by ${split.method} (validation users: train items reconstruct; test users: train+validation items reconstruct)`,
    model: (parts) => Object.fromEntries(parts.map((part) => [part, rank(reconstructedScorer(plan, reconstruction, global, clients[part], split, c.seed), part)])),
    baselines: () => {
      // Popularity as the server could count it: the training users' interactions only.
      const popularity = popularityScorer({ ...split, train: rowsOfUsers(rows, users.train) } satisfies ImplicitSplit);
      const random = randomScorer(split.nItems, c.seed);
      return {
        popularity: { test: rank(popularity, 'test'), validation: rank(popularity, 'validation') },
        random: { test: rank(random, 'test'), validation: rank(random, 'validation') },
      };
    },
  };
}

/** Predicts an unseen user's ratings after reconstructing its user tables from its reconstruction ratings. */
export function fedReconRater(plan: ReconstructionPlan, reconstruction: PhaseOptions, global: GlobalParams, nItems: number, seed: number): UnseenRater {
  return {
    predict(user: UnseenUser, out: Float32Array): void {
      const positives = [{ user: 0, items: user.reconstruction.items, ratings: user.reconstruction.ratings }];
      const local = reconstructLocal(plan, reconstruction, global, positives, null, Rng.derive(seed, 'fedrecon-reconstruct', user.user));
      createModel(plan.model, 1, nItems, { global, local }).scoreItems(0, user.evaluation.items, out);
    },
  };
}

/** A scorer over dense user ids for evaluation users, each reconstructed on its own data from `global`. */
export function reconstructedScorer(
  plan: ReconstructionPlan,
  reconstruction: PhaseOptions,
  global: GlobalParams,
  clients: readonly ClientData[],
  split: ImplicitSplit,
  seed: number,
): Scorer {
  const models = new Map<number, RecModel>();
  for (const client of clients) {
    const rng = Rng.derive(seed, 'fedrecon-reconstruct', client.users[0]);
    const local = reconstructLocal(plan, reconstruction, global, localPositives(client), clientNegativeSource(split.nItems, client), rng);
    models.set(client.users[0], createModel(plan.model, 1, split.nItems, { global, local }));
  }
  return {
    nItems: split.nItems,
    scoreItems(user, items, out) {
      const model = models.get(user);
      if (!model) throw new Error(`user ${user} was not reconstructed`);
      model.scoreItems(0, items, out);
    },
  };
}
