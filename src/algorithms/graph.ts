/**
 * Graph aggregation (UFGraphFR: Wang, Hao, Xiao, J. Supercomputing 2026, arXiv 2501.08044;
 * GPFedRec: Zhang et al., KDD 2024) as an Algorithm module: `--algorithm graph` with
 * `--model text-graph` (simulation: recipes/text-graph-experiment.ts) or `--model mf` (GPFedRec's
 * setting with an MF client: recipes/mf-graph-experiment.ts), and on the coordinator.
 * The device side (text vectors, client work, personal-row message, scoring) is ./graph-device.ts;
 * MF's (client work, scoring) is ./graph-mf-device.ts. The model picks the similarity: text-graph
 * users upload vec(W_u); MF users upload nothing but their item rows, so the server compares their
 * item-table updates (federated/graph.ts option `similarity` 'items').
 * Round on the coordinator (federated/graph.ts `GraphAggregation`, the simulation's strategy):
 *  1. plan: the shared round plan plus `textGraph` (model, client optimiser, local DP, encoder);
 *  2. submit: the generic checks (head deltas), then `admit`: every user upload in range and finite,
 *     its device index k mapped to the server's user id clientId·usersPerClient + k;
 *  3. close: the round's uploads are folded in client-id order into the aggregation (sketch,
 *     top-N user graph, propagation, θ_global, personal rows Δ_u);
 *  4. checkpoint: θ and the head as the model; the per-user state (sketches, personal rows,
 *     server optimisers) as the strategy's server state, in the same transaction;
 *  5. GET /v1/personal: a client's users' Δ_u after the current model version.
 * With one user per client the server's user ids keep the simulation's user order (dense ids), so
 * the deployed model equals the simulated one bit for bit (server/graph-deploy.test.ts). With more
 * users per client the order of users in the graph differs (clientId·M + k against dense ids), which
 * changes float summation order and top-N ties only.
 */
import { z } from 'zod';
import { GraphAggregation, type GraphOptions } from '../federated/graph.js';
import { isGraphUpdate, type GraphUpdate } from '../federated/personal-types.js';
import type { GlobalUpdate, RoundSummary } from '../federated/types.js';
import { Rng } from '../math/rng.js';
import { headParamInfo, initTextGraphGlobal, textGraphParamInfo, type TextGraphConfig } from '../models/text-graph/model.js';
import type { GlobalParams, ParamInfo } from '../models/types.js';
import type { OptimizerState } from '../optim/types.js';
import type { OptimizerConfig } from '../optim/types.js';
import type { TrainConfig } from '../config/config.js';
import { ConfigError, clientOptimizerOf } from '../config/config-derived.js';
import type { PersonalisingStrategy } from '../server/strategies.js';
import { InvalidUpdate } from '../server/validate.js';
import { USE_DIM } from '../text/types.js';
import { encodePersonal, textGraphClientWork, textGraphDeviceNeeds, textGraphPlanSchema, textGraphScorer } from './graph-device.js';
import { GRAPH_MF_HEAD, graphMfClientWork, graphMfParamInfo, graphMfPlanFields, graphMfScorer, initGraphMfGlobal, isGraphMfPlan } from './graph-mf-device.js';
import type { AdmitContext, Algorithm } from './types.js';

/** The text-graph model of a run, its text vectors `textDim` wide. */
export function textGraphConfigOf(c: TrainConfig, textDim: number): TextGraphConfig {
  return { textDim, dim: c.dim, layers: c.layers, lambda: c.lambda, dot: c.head === 'mlp+dot', recentItems: c.recentItems };
}

/** The server's graph-aggregation settings of a run; `serverOptimizer` as config/config.ts `serverOptimizerOf` derives it. */
export function graphAggregationOptions(c: TrainConfig, serverOptimizer: OptimizerConfig): GraphOptions {
  return {
    neighbors: c.neighbors, layers: c.graphLayers, norm: c.norm, selfLoop: c.selfLoop, sketchDim: c.sketchDim, seed: c.seed,
    personalRows: c.personalRows, serverOptimizer,
  };
}

/** The server's graph-aggregation settings of an MF run: the similarity of the users' item-table updates. */
export function graphMfAggregationOptions(c: TrainConfig, serverOptimizer: OptimizerConfig): GraphOptions {
  return { ...graphAggregationOptions(c, serverOptimizer), similarity: 'items' };
}

/** Width of the configured encoder's vectors, which the coordinator must know without loading it. */
function encoderWidth(c: TrainConfig): number {
  if (c.encoder === 'hash') return 256;
  if (c.encoder === 'use') return USE_DIM;
  throw new ConfigError(`training.encoder '${c.encoder}' cannot be deployed: the coordinator cannot know the width of a transformers.js model's vectors without loading it; use 'use' or 'hash'`);
}

/** The text-graph model of config c as served, refused in one line where it cannot deploy. */
function servedConfig(c: TrainConfig): TextGraphConfig {
  if (c.textAblation !== 'none') {
    throw new ConfigError(`training.textAblation '${c.textAblation}' cannot be deployed: the ablation replaces or mixes users' texts, which never leave their devices`);
  }
  if (c.download !== 'f32') {
    throw new ConfigError(`training.download '${c.download}': text-graph deploys with float32 downloads only (its simulation trains on the exact tables)`);
  }
  return textGraphConfigOf(c, encoderWidth(c));
}

/**
 * `GraphAggregation` behind the coordinator's streaming contract: the coordinator folds into a copy
 * of its model, while the aggregation is bound to one parameter object, so the round's uploads are
 * kept (in client-id order, as the coordinator hands them) and replayed at `endRound` on a private
 * copy of the model, which is then written back. The aggregation is rebuilt with more user slots
 * when a new client joins (the slot count changes nothing it computes).
 */
export class DeployedGraphAggregation implements PersonalisingStrategy {
  readonly name = 'graph';
  private agg: GraphAggregation | null = null;
  private readonly mine: GlobalParams;
  private pending: GraphUpdate[] = [];
  private round = 0;

  constructor(
    private readonly info: readonly ParamInfo[],
    private readonly nItems: number,
    private readonly weightDim: number,
    private readonly headInfo: readonly ParamInfo[],
    private readonly options: GraphOptions,
    private readonly usersPerClient: number,
  ) {
    const mine: Record<string, Float32Array> = {};
    for (const p of info) mine[p.name] = new Float32Array(p.rows * p.cols);
    this.mine = mine;
  }

  private aggregation(users: number): GraphAggregation {
    if (this.agg && this.agg.nUsers >= users) return this.agg;
    const next = new GraphAggregation(this.mine, Math.max(users, 2 * (this.agg?.nUsers ?? 0)), this.nItems, this.weightDim, this.headInfo, this.options);
    if (this.agg) next.importState(this.agg.exportState());
    this.agg = next;
    return next;
  }

  beginRound(round: number): void {
    this.round = round;
    this.pending = [];
  }

  accept(update: GlobalUpdate): void {
    if (!isGraphUpdate(update)) throw new Error('graph aggregation needs GraphUpdate uploads');
    this.pending.push(update);
  }

  endRound(global: GlobalParams): RoundSummary {
    for (const p of this.info) this.mine[p.name].set(global[p.name]);
    let users = 1;
    for (const u of this.pending) for (const up of u.users) users = Math.max(users, up.user + 1);
    const agg = this.aggregation(users);
    agg.beginRound(this.round);
    for (const u of this.pending) agg.accept(u);
    const summary = agg.endRound(this.mine);
    for (const p of this.info) global[p.name].set(this.mine[p.name]);
    this.pending = [];
    return summary;
  }

  serverState(): OptimizerState {
    return this.agg ? this.agg.exportState() : { step: 0, tables: { 'graph/users': Float32Array.of(0) } };
  }

  restoreServerState(state: OptimizerState): void {
    const users = state.tables['graph/users']?.[0];
    if (users === undefined) throw new Error("graph aggregation state: table 'graph/users' is missing");
    if (users === 0) {
      this.agg = null;
      return;
    }
    const agg = new GraphAggregation(this.mine, users, this.nItems, this.weightDim, this.headInfo, this.options);
    agg.importState(state);
    this.agg = agg;
  }

  personalMessage(clientId: number, version: number): Uint8Array {
    const m = this.usersPerClient;
    return encodePersonal(version, Array.from({ length: m }, (_, k) => {
      const u = clientId * m + k;
      return this.agg && u < this.agg.nUsers ? this.agg.personal(u) : null;
    }));
  }
}

/** Checks a graph upload and maps its users to server ids; throws InvalidUpdate. */
function admitGraphUpdate(update: GlobalUpdate, clientId: number, ctx: AdmitContext): GlobalUpdate {
  if (!isGraphUpdate(update) || update.users.length === 0) {
    throw new InvalidUpdate('shape', "a graph-aggregation update carries its users' uploads (sections users.*: vec(W_u) and trained item rows)");
  }
  const c = ctx.training;
  const m = c.usersPerClient;
  const mf = c.model === 'mf';
  const d = mf ? c.dim + 1 : c.dim; // MF rows are [q_i, b_i]
  const width = mf ? 0 : encoderWidth(c) * c.dim; // MF users upload no vector
  const seen = new Set<number>();
  const users = update.users.map((up, j) => {
    if (!Number.isInteger(up.user) || up.user < 0 || up.user >= m) throw new InvalidUpdate('index', `users.id[${j}] = ${up.user} is outside [0, ${m}) (training.usersPerClient)`);
    if (seen.has(up.user)) throw new InvalidUpdate('shape', `user ${up.user} appears twice`);
    seen.add(up.user);
    if (up.weightVector.length !== width) throw new InvalidUpdate('shape', `user ${up.user}: vec(W_u) has ${up.weightVector.length} values, expected ${width}`);
    if (up.itemRows.length !== up.rows.length * d) throw new InvalidUpdate('shape', `user ${up.user}: ${up.itemRows.length} item values for ${up.rows.length} rows of width ${d}`);
    for (let k = 0; k < up.rows.length; k++) {
      const r = up.rows[k];
      if (r < 0 || r >= ctx.nItems) throw new InvalidUpdate('index', `user ${up.user}: rows[${k}] = ${r} is outside [0, ${ctx.nItems})`);
      if (k > 0 && r <= up.rows[k - 1]) throw new InvalidUpdate('index', `user ${up.user}: rows must be strictly ascending at ${k}`);
    }
    for (const [name, t] of [['vec(W_u)', up.weightVector], ['item rows', up.itemRows]] as const) {
      const bad = t.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InvalidUpdate('not-finite', `user ${up.user}: ${name} value [${bad}] is ${t[bad]}`);
    }
    if (!Number.isFinite(up.weight) || up.weight < 0) throw new InvalidUpdate('weight', `user ${up.user}: weight ${up.weight} must be finite and ≥ 0`);
    return { ...up, user: clientId * m + up.user };
  });
  return { ...update, users } as GraphUpdate;
}

/** Graph aggregation's own run-config fields (federated/graph.ts `GraphOptions`; text-graph's defaults were chosen on validation: docs/graph.md). */
const options = z.object({
  neighbors: z.number().int().min(0).default(10),
  graphLayers: z.number().int().positive().default(1),
  norm: z.enum(['row', 'sym']).default('row'),
  selfLoop: z.boolean().default(true),
  /** Laplace noise on the uploaded vec(W_u) (text-graph's local DP; MF uploads no vector). */
  dpLaplace: z.number().min(0).default(0),
  sketchDim: z.number().int().min(0).default(128),
  personalRows: z.enum(['own', 'union']).default('own'),
});

export const graph: Algorithm<typeof options.shape> = {
  name: 'graph',
  paper: 'Wang et al., J. Supercomputing 2026 (UFGraphFR); Zhang et al., KDD 2024 (GPFedRec)',
  summary: 'graph aggregation: a user graph from the uploads, personal item tables over neighbours; the default for --model text-graph, or --model mf',
  // scoped in config/config-scope.ts to text-graph and MF runs of this algorithm (dpLaplace: text-graph's only)
  options,
  flags: {
    neighbors: { key: 'neighbors', kind: 'integer', help: 'graph: top-N most similar users per user' },
    'graph-layers': { key: 'graphLayers', kind: 'integer', help: 'graph: propagation layers L of R = S\'\'·A (--layers is the MLP widths)' },
    norm: { key: 'norm', kind: 'string', help: 'graph: row | sym normalisation of the user graph' },
    'no-self-loop': { key: 'noSelfLoop', kind: 'boolean', help: 'graph: leave a user out of its own neighbourhood' },
    'dp-laplace': { key: 'dpLaplace', kind: 'number', help: 'graph: Laplace noise scale on uploaded vec(W_u) (0 = off)' },
    'sketch-dim': { key: 'sketchDim', kind: 'integer', help: 'graph: random-projection width for similarities, 0 = exact' },
    'personal-rows': { key: 'personalRows', kind: 'string', help: "graph: rows of R_u kept per user: own (trained rows) | union (plus the neighbours' rows)" },
  },
  capabilities: { sumsUpdates: false, workers: false },
  models: ['text-graph', 'mf'],
  plan: (c) => c.model === 'mf' ? graphMfPlanFields(c) : ({
    textGraph: textGraphPlanSchema.parse({
      model: { ...servedConfig(c), layers: [...c.layers] },
      optimizer: clientOptimizerOf(c),
      dpLaplace: c.dpLaplace,
      encoder: { kind: c.encoder, seed: c.seed, ...(c.encoderModel !== undefined ? { model: c.encoderModel } : {}) },
      initSeed: c.seed,
    }),
  }),
  server: ({ info, nItems, training, sum }) => {
    if (training.model === 'mf') {
      return new DeployedGraphAggregation(info, nItems, nItems * (training.dim + 1), GRAPH_MF_HEAD, graphMfAggregationOptions(training, sum.serverOptimizer), training.usersPerClient);
    }
    const cfg = servedConfig(training);
    return new DeployedGraphAggregation(info, nItems, cfg.textDim * cfg.dim, headParamInfo(cfg), graphAggregationOptions(training, sum.serverOptimizer), training.usersPerClient);
  },
  client: (plan, global, data, state, sampler, inputs) => (isGraphMfPlan(plan) ? graphMfClientWork : textGraphClientWork)(plan, global, data, state, sampler, inputs),
  servedModel: (c, nItems) => {
    // MF's loss and download limits are refused by the run config's schema (config/config.ts)
    if (c.model === 'mf') {
      return {
        info: graphMfParamInfo(0, nItems, c.dim),
        plan: { kind: 'mf', dim: c.dim },
        init: () => initGraphMfGlobal(c.dim, nItems, c.seed),
        // per user: at most every item row [q_i, b_i] with its id; g's delta; headers
        maxUpdateBytes: c.usersPerClient * (nItems * (c.dim + 2) * 4 + 16) + (64 << 10),
      };
    }
    const cfg = servedConfig(c);
    const info = textGraphParamInfo(cfg, 0, nItems);
    const width = cfg.textDim * cfg.dim;
    const head = headParamInfo(cfg).reduce((n, p) => n + p.rows * p.cols * 4, 0);
    return {
      info,
      plan: { kind: 'text-graph', dim: cfg.dim },
      init: () => initTextGraphGlobal(cfg, nItems, Rng.derive(c.seed, 'init-global')),
      // per user: vec(W_u) and at most every item row with its id; the head deltas; headers
      maxUpdateBytes: c.usersPerClient * (width * 4 + nItems * (cfg.dim + 1) * 4 + 16) + head + (64 << 10),
    };
  },
  admit: admitGraphUpdate,
  device: { personal: true, prepare: (plan, texts) => (isGraphMfPlan(plan) ? Promise.resolve(undefined) : textGraphDeviceNeeds.prepare!(plan, texts)) },
  scorer: (plan, global, local, data, nItems, device) => (isGraphMfPlan(plan) ? graphMfScorer : textGraphScorer)(plan, global, local, data, nItems, device),
};
