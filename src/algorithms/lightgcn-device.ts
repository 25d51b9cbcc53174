/**
 * Federated LightGCN / NCL (He et al., SIGIR 2020; Lin et al., WWW 2022; FedAvg rounds, McMahan et
 * al., AISTATS 2017), the part that runs on a device; the Algorithm module, with the server side, is
 * ./lightgcn.ts. Each round the device downloads the global item table, and for NCL after warm-up
 * computes the round's item prototypes itself: the simulation's server E-step (k-means on the global
 * item table with the round's seeded start, models/ncl/prototypes.ts) is a deterministic function of
 * the table every client downloads, so each device gets the same prototypes without a second download
 * (at the cost of one k-means per device and round: small for catalogues of thousands of items).
 * Then it runs the engine's `runGraphClientRound` on its ego-graph and sends the deltas of the item
 * rows it holds; its user embedding stays on the device.
 */
import { z } from 'zod';
import { egoUserEmbeddings, runGraphClientRound, type GraphRoundPlan } from '../federated/graph-client.js';
import type { RoundPlan } from '../federated/types.js';
import { Rng } from '../math/rng.js';
import { dotProductModel } from '../models/lightgcn/model.js';
import { computePrototypes } from '../models/ncl/prototypes.js';
import type { ClientWork, DeviceScorer } from './types.js';

/** The plan's `lightgcn` field (config/graph-settings.ts `GraphSettings`, less the epochs). */
export const lightGcnPlanSchema = z
  .object({
    dim: z.number().int().positive(),
    layers: z.number().int().min(0),
    reg: z.number().min(0),
    batch: z.number().int().positive(),
    optimizer: z.object({ kind: z.enum(['sgd', 'adam']), lr: z.number(), weightDecay: z.number().optional() }).strict(),
    /** Seed of the server's E-step (prototypes of round r: Rng.derive(seed, 'e-step-items', r)). */
    seed: z.number().int(),
    ncl: z
      .object({
        hyperLayers: z.number().int().positive(),
        sslTemp: z.number().positive(),
        sslReg: z.number().min(0),
        alpha: z.number(),
        protoReg: z.number().min(0),
        clusters: z.number().int().positive(),
        kmeansIterations: z.number().int().positive(),
        warmUp: z.number().int().min(0),
      })
      .strict()
      .nullable(),
  })
  .strict();

export type LightGcnPlanField = z.infer<typeof lightGcnPlanSchema>;

export function lightGcnPlanOf(plan: RoundPlan): LightGcnPlanField {
  const parsed = lightGcnPlanSchema.safeParse((plan as unknown as Record<string, unknown>).lightgcn);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => `lightgcn.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`a 'lightgcn' round plan needs valid LightGCN / NCL settings (${why})`);
  }
  return parsed.data;
}

/** The engine's round plan, as recipes/graph-federated.ts builds it, with this round's prototypes computed here. */
export function graphRoundPlan(plan: RoundPlan, itemEmb: Float32Array): GraphRoundPlan {
  const f = lightGcnPlanOf(plan);
  const ncl = f.ncl;
  const itemPrototypes = ncl && plan.round > ncl.warmUp
    ? computePrototypes(itemEmb, f.dim, { clusters: ncl.clusters, iterations: ncl.kmeansIterations, seed: Rng.derive(f.seed, 'e-step-items', plan.round).nextU32() })
    : null;
  return {
    round: plan.round, seed: plan.seed, dim: f.dim, layers: f.layers, reg: f.reg, localEpochs: plan.localEpochs,
    batch: f.batch, optimizer: f.optimizer, ncl: ncl ? { loss: ncl, itemPrototypes } : null,
  };
}

/** The device's round. Stateful: the user embedding stays on the device; the item-row deltas are sent. */
export const lightGcnClientWork: ClientWork = (plan, global, data, state, sampler) =>
  runGraphClientRound(graphRoundPlan(plan, global.itemEmb), global.itemEmb, data, state, sampler);

/** Scoring on the device: ū (the user propagated on its ego-graph with the current items) · e_i, as the simulation evaluates. */
export const lightGcnScorer: DeviceScorer = (plan, global, local, data, nItems) => {
  const f = lightGcnPlanOf(plan);
  const users = egoUserEmbeddings({ dim: f.dim, layers: f.layers }, global.itemEmb, data, { local });
  return dotProductModel(data.users.length, nItems, f.dim, users, global.itemEmb.slice());
};
