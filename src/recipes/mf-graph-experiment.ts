/**
 * MF under graph aggregation end to end (GPFedRec: Zhang et al., KDD 2024, with an MF client;
 * algorithms/graph.ts, graph-mf-device.ts), with the EVALUATION.md protocol and result document:
 *  1. load data, split (leave-one-out by time, fixed evaluation negatives); one client per
 *     `usersPerClient` users, as every federated run;
 *  2. rounds through the one round engine (simulation/round-engine.ts): sample clients; each trains
 *     MF from its users' personal tables R_u = θ + Δ_u (federated/graph-mf-client.ts, the device's
 *     own work, from the round plan the coordinator would send) and uploads its trained rows; the
 *     server builds the user graph from the similarity of the item-table updates, propagates, moves
 *     θ and keeps each user's Δ_u (federated/graph.ts); validation is probed;
 *  3. evaluate validation and test with each user's p_u, b_u and personal table
 *     (models/mf/personalised.ts: the common `Scorer`), at the best validation round; popularity and
 *     random baselines in the same run.
 */
import { evaluateRanking } from '../eval/ranking.js';
import { popularityScorer, randomScorer } from '../eval/baselines.js';
import type { Scorer } from '../eval/types.js';
import type { Dataset, ImplicitSplit } from '../data/types.js';
import { checkNegativeRoom } from '../data/negative-room.js';
import { Rng } from '../math/rng.js';
import { PersonalisedMfScorer } from '../models/mf/personalised.js';
import type { GlobalParams } from '../models/types.js';
import { GraphAggregation } from '../federated/graph.js';
import { clientNegativeSource, } from '../federated/client-work.js';
import { freshLocal } from '../federated/compact.js';
import { runGraphMfClientRound } from '../federated/graph-mf-client.js';
import type { PersonalRows } from '../federated/personal-types.js';
import type { RoundPlan } from '../federated/types.js';
import { updateBytes } from '../federated/bytes.js';
import { partitionClients, sampleClients } from '../federated/partition.js';
import { graphMfAggregationOptions } from '../algorithms/graph.js';
import { GRAPH_MF_HEAD, graphMfClientPlan, graphMfPlanFields, initGraphMfGlobal } from '../algorithms/graph-mf-device.js';
import { graphMfModel } from '../federated/graph-mf-client.js';
import { effectiveBatch, effectiveLr, recencyOf, serverOptimizerOf, type TrainConfig } from '../config/config.js';
import type { ResultDocument } from '../report/result.js';
import type { HistoryEntry, ProgressListener } from '../report/history.js';
import { InProcessClients, runRoundsSync } from '../simulation/round-engine.js';
import { selectionScore } from '../simulation/selection.js';
import { hashRoundSeed } from '../simulation/simulation.js';
import { evaluateParts, evaluationPlan, loadConfiguredSplit } from './experiment.js';
import { buildResult } from './result-builder.js';

export interface MfGraphRun {
  readonly result: ResultDocument;
  readonly dataset: Dataset;
  readonly split: ImplicitSplit;
  /** θ after the last round ('item' rows [q_i, b_i], 'globalBias'). */
  readonly global: GlobalParams;
  /** User u's personal rows after the last round (what a deployment sends it). */
  readonly personal: (u: number) => PersonalRows | null;
}

/** Round `round`'s plan as the coordinator builds it (server/coordinator.ts `makePlan`) for MF under graph aggregation. */
export function mfGraphRoundPlan(c: TrainConfig, round: number): RoundPlan {
  return {
    ...graphMfPlanFields(c),
    round,
    model: graphMfModel(c.dim),
    loss: c.loss,
    localEpochs: c.localEpochs,
    batch: effectiveBatch(c),
    negatives: c.negatives,
    optimizer: { kind: c.optimizer, lr: effectiveLr(c), weightDecay: c.l2 },
    recency: recencyOf(c),
    seed: hashRoundSeed(c.seed, round),
  } as RoundPlan;
}

export async function runMfGraphTraining(given: TrainConfig, onProgress?: ProgressListener): Promise<MfGraphRun> {
  const started = performance.now();
  const { dataset, split, hasValidation } = await loadConfiguredSplit(given);
  const { config: c, parts } = evaluationPlan(given, hasValidation);
  checkNegativeRoom(split, c.data ?? dataset.name, dataset.userIds);
  const d = c.dim;
  const clients = partitionClients(split, c.usersPerClient, c.seed);
  const perRound = Math.min(clients.length, c.clientsPerRound ?? Math.max(1, Math.round((c.fraction ?? 1) * clients.length)));
  const global = initGraphMfGlobal(d, split.nItems, c.seed);
  const graph = new GraphAggregation(global, split.nUsers, split.nItems, split.nItems * (d + 1), GRAPH_MF_HEAD, graphMfAggregationOptions(c, serverOptimizerOf(c)));
  const personal = (u: number): PersonalRows | null => graph.personal(u);
  const samplers = clients.map((client) => clientNegativeSource(split.nItems, client));
  const globalBytes = Object.values(global).reduce((s, v) => s + v.length * 4, 0);
  const executor = new InProcessClients<RoundPlan>(clients, ({ plan }) => {
    const p = graphMfClientPlan(plan);
    return (k, state) => {
      const client = clients[k];
      let bytesDown = 0;
      for (const u of client.users) bytesDown += globalBytes + ((personal(u)?.delta.length ?? 0) + (personal(u)?.rows.length ?? 0)) * 4;
      const result = runGraphMfClientRound(p, { global, personal: (j) => personal(client.users[j]) }, client, state, samplers[k]);
      const bytesUp = updateBytes(result.update) + result.update.users.reduce((s, up) => s + 4 * (up.weightVector.length + up.rows.length + up.itemRows.length), 0);
      return { update: result.update, state: result.state, bytesUp, bytesDown };
    };
  });
  /** Every user's p_u, b_u (a fresh draw for users whose client never trained) with θ and its personal rows. */
  const scorer = (): Scorer => {
    const local = freshLocal(graphMfModel(d), split.nUsers, Rng.derive(c.seed, 'init-local-unseen'));
    clients.forEach((client, k) => {
      const s = executor.states[k];
      if (!s) return;
      client.users.forEach((u, j) => {
        local.userEmb.set(s.local.userEmb.subarray(j * d, (j + 1) * d), u * d);
        local.userBias[u] = s.local.userBias[j];
      });
    });
    return new PersonalisedMfScorer(d, split.nItems, global.item, global.globalBias[0], local.userEmb, local.userBias, personal);
  };
  // Model selection on validation (EVALUATION.md): when a probe is the best so far, that round's
  // model is evaluated on validation and test at once (what restoring its checkpoint would give,
  // without copying every user's personal table).
  const probeOpts = { part: 'validation' as const, protocols: ['sampled' as const], ks: c.k };
  let best: { score: number; round: number; parts: ReturnType<typeof evaluateParts> } | null = null;
  const probe = (round: number): HistoryEntry['validation'] => {
    const s = scorer();
    const validation = hasValidation ? evaluateRanking(s, split, probeOpts) : {};
    const score = selectionScore(validation, c.k[0]);
    if (c.select === 'best' && score !== undefined && score > (best?.score ?? -Infinity)) best = { score, round, parts: evaluateParts(s, split, c, parts) };
    return validation;
  };
  const history = runRoundsSync({
    schedule: {
      rounds: c.rounds,
      evalEvery: c.evalEvery,
      plan: (round) => mfGraphRoundPlan(c, round),
      select: (round) => sampleClients(clients.length, perRound, c.seed, round),
    },
    fold: graph,
    global,
    executor,
    probe,
    onProgress,
  });
  const chosen = best as { round: number; parts: ReturnType<typeof evaluateParts> } | null;
  const metrics = chosen?.parts ?? evaluateParts(scorer(), split, c, parts);
  const baselines = { popularity: evaluateParts(popularityScorer(split), split, c, parts), random: evaluateParts(randomScorer(split.nItems, c.seed), split, c, parts) };
  const result = buildResult({ dataset, split: split.method, config: c, selectedRound: chosen?.round ?? history.length, metrics, baselines, history, started });
  return { result, dataset, split, global, personal };
}
