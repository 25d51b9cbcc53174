/**
 * Graph aggregation with an MF client (GPFedRec: Zhang et al., "GPFedRec: Graph-Guided
 * Personalization for Federated Recommendation", KDD 2024), the part that runs on a device
 * (browser-safe: no Node module); the Algorithm module, with the server side, is ./graph.ts, which
 * dispatches here for `--model mf`. Round:
 *  1. download θ ('item' rows [q_i, b_i], d + 1 wide, and 'globalBias') (GET /v1/model) and this
 *     client's personal rows Δ_u (GET /v1/personal, ./graph-device.ts's message, rows d + 1 wide);
 *  2. train MF from Q_u = R_u = θ + Δ_u with the plan's loss and λ·mean‖Q_u − R_u‖²
 *     (federated/graph-mf-client.ts, the simulation's client work); p_u and b_u stay on the device;
 *  3. upload each user's trained rows of Q_u and the global offset's delta. No user vector is
 *     uploaded: the server's similarity is that of the users' item-table updates (GPFedRec's signal,
 *     federated/graph.ts option `similarity` 'items'), which it receives anyway. Uploading p_u
 *     instead would hand the server the one table MF keeps private, and with it every score;
 *  4. score on the device with p_u, b_u and R_u (models/mf/personalised.ts).
 */
import { z } from 'zod';
import { Rng } from '../math/rng.js';
import { runGraphMfClientRound, type GraphMfPlan } from '../federated/graph-mf-client.js';
import type { PersonalRows } from '../federated/personal-types.js';
import type { RoundPlan } from '../federated/types.js';
import { mfParamInfo } from '../models/mf/mf.js';
import { PersonalisedMfScorer } from '../models/mf/personalised.js';
import { initParams, paramInfo } from '../models/params.js';
import type { GlobalParams, ParamInfo } from '../models/types.js';
import type { TrainConfig } from '../config/config.js';
import { decodePersonal } from './graph-device.js';
import type { ClientWork, DeviceInputs, DeviceScorer } from './types.js';

/** The plan's `graphMf` field: the weight λ of mean‖Q_u − R_u‖². */
export const graphMfPlanSchema = z.object({ lambda: z.number().min(0) }).strict();

/** Whether a graph-aggregation round plan is MF's (it carries `graphMf`; text-graph's carries `textGraph`). */
export function isGraphMfPlan(plan: RoundPlan): boolean {
  return (plan as unknown as Record<string, unknown>).graphMf !== undefined;
}

/** The plan fields of an MF graph-aggregation run. */
export function graphMfPlanFields(c: TrainConfig): Record<string, unknown> {
  return { graphMf: graphMfPlanSchema.parse({ lambda: c.lambda }) };
}

/** The tables of MF under graph aggregation: θ rows [q_i, b_i], the global offset, and the device's p_u, b_u. */
export function graphMfParamInfo(nUsers: number, nItems: number, dim: number): ParamInfo[] {
  return [paramInfo('userEmb', nUsers, dim, 'user'), paramInfo('userBias', nUsers, 1, 'user'), paramInfo('item', nItems, dim + 1, 'item'), paramInfo('globalBias', 1, 1, 'dense')];
}

/** The dense tables graph aggregation averages FedAvg-style (its "head"): the global offset g. */
export const GRAPH_MF_HEAD: readonly ParamInfo[] = [paramInfo('globalBias', 1, 1, 'dense')];

/** The initial θ: FedAvg MF's seeded initial tables (q_i ~ N(0, 0.01²), b_i = 0), its rows [q_i, b_i]. */
export function initGraphMfGlobal(dim: number, nItems: number, seed: number): GlobalParams {
  const mf = initParams(mfParamInfo(0, nItems, dim).filter((p) => p.scope === 'global'), 0.01, Rng.derive(seed, 'init-global')).global;
  const item = new Float32Array(nItems * (dim + 1));
  for (let i = 0; i < nItems; i++) {
    item.set(mf.itemEmb.subarray(i * dim, (i + 1) * dim), i * (dim + 1));
    item[i * (dim + 1) + dim] = mf.itemBias[i];
  }
  return { item, globalBias: mf.globalBias };
}

/** The engine's MF plan from a graph-aggregation round plan (the simulation builds the same RoundPlan). */
export function graphMfClientPlan(plan: RoundPlan): GraphMfPlan {
  const parsed = graphMfPlanSchema.safeParse((plan as unknown as Record<string, unknown>).graphMf);
  if (!parsed.success) throw new Error(`an MF graph-aggregation round plan needs graphMf.lambda ≥ 0 (${parsed.error.issues[0]?.message})`);
  if (plan.loss !== 'bce' && plan.loss !== 'bpr') throw new Error(`MF under graph aggregation trains with loss 'bce' or 'bpr', not '${plan.loss}'`);
  return {
    round: plan.round, seed: plan.seed, dim: plan.model.dim, loss: plan.loss, localEpochs: plan.localEpochs, batch: plan.batch,
    negatives: plan.negatives, optimizer: plan.optimizer, ...(plan.recency ? { recency: plan.recency } : {}), lambda: parsed.data.lambda,
  };
}

function personalOf(device: DeviceInputs | undefined, width: number): (k: number) => PersonalRows | null {
  const map = device?.personal ? decodePersonal(device.personal, width) : new Map<number, PersonalRows>();
  return (k) => map.get(k) ?? null;
}

/** The device's round: stateful (p_u, b_u kept between rounds); each user's trained rows and g's delta are sent. */
export const graphMfClientWork: ClientWork = (plan, global, data, state, sampler, device) => {
  const p = graphMfClientPlan(plan);
  const result = runGraphMfClientRound(p, { global, personal: personalOf(device, p.dim + 1) }, data, state, sampler);
  // the item rows travel per user (users.*): the generic 'item' table is empty (rows = [])
  return { update: { ...result.update, itemTables: { item: new Float32Array(0) } }, state: result.state };
};

/** Scoring on the device: p_u, b_u and R_u = θ + Δ_u. */
export const graphMfScorer: DeviceScorer = (plan, global, local, _data, nItems, device) =>
  new PersonalisedMfScorer(plan.model.dim, nItems, global.item, global.globalBias[0], local.userEmb, local.userBias, personalOf(device, plan.model.dim + 1));
