/**
 * The HTTP protocol between coordinator and clients (JSON control messages; tensors use the binary
 * messages of messages.ts). Version 1, every route under `/v1`, every request carries
 * `Authorization: Bearer <token>`:
 *
 *   GET  /v1/round      → RoundInfo (JSON): train in round r with this plan, wait, or done
 *   GET  /v1/model      → model message (application/octet-stream): global tables after `version` rounds
 *   POST /v1/update     ← update message (application/octet-stream) → UpdateAck (JSON)
 *   GET  /v1/catalogue  → Catalogue (JSON): item ids and titles, to map a client's own data
 *
 * Errors are JSON `{ error, message }` with the HTTP status saying which kind (400 malformed,
 * 401 token, 403 not selected, 409 round closed / already sent, 413 too large, 422 invalid values).
 */
import { z } from 'zod';
import { MODEL_NAMES } from '../models/registry.js';

export const PROTOCOL_VERSION = 1;

const optimizerSchema = z.object({
  kind: z.enum(['sgd', 'adam']),
  lr: z.number(),
  weightDecay: z.number().optional(),
  momentum: z.number().optional(),
  beta1: z.number().optional(),
  beta2: z.number().optional(),
  eps: z.number().optional(),
});

/**
 * FedRecon's plan fields (server/strategies.ts `planExtras`, under the plan's `fedrecon` key): how a
 * device reconstructs its user tables (optimiser, epochs, most steps), the most post-reconstruction
 * steps, and the name of the split function (federated/recon-split.ts `RECON_SPLITS`). The
 * post-reconstruction phase uses the plan's own `optimizer` and `localEpochs`.
 */
export const fedReconPlanSchema = z
  .object({
    reconstruction: z
      .object({
        optimizer: optimizerSchema,
        epochs: z.number().int().positive(),
        /** Most minibatch steps over all reconstruction epochs; 0: no cap. */
        stepsMax: z.number().int().min(0),
      })
      .strict(),
    postReconstructionStepsMax: z.number().int().min(0),
    split: z.enum(['alternate', 'reuse']),
  })
  .strict();

export type FedReconPlanFields = z.infer<typeof fedReconPlanSchema>;

export const roundPlanSchema = z.object({
  round: z.number().int().min(1),
  model: z.object({
    // every registered model; text-graph's, LightGCN's and NCL's settings travel in their algorithm's own plan field (src/algorithms/)
    kind: z.enum(MODEL_NAMES),
    dim: z.number().int().positive(),
    mlpDim: z.number().int().positive().optional(),
    layers: z.array(z.number().int().positive()).readonly().optional(),
    initStd: z.number().optional(),
  }),
  loss: z.enum(['bce', 'bpr', 'mse', 'softmax']),
  localEpochs: z.number().int().positive(),
  batch: z.number().int().positive(),
  negatives: z.number().int().min(0),
  optimizer: optimizerSchema,
  recency: z.object({ window: z.number().int().min(0), weight: z.number().int().positive() }).strict().optional(),
  seed: z.number().int(),
  /** FedRecon rounds only (validated when present; the 'fedrecon' client work requires it). */
  fedrecon: fedReconPlanSchema.optional(),
  /** Distributed DP (privacy/dp-fedavg.ts): clip to `clip`, add N(0, noiseStd²) to every entry, on the device. */
  dp: z.object({ mode: z.literal('distributed'), clip: z.number().positive(), noiseStd: z.number().min(0), noise: z.enum(['seeded', 'secure']) }).strict().optional(),
  // Kept, not stripped: a strategy may add its own plan fields (server/strategies.ts planExtras).
}).loose();

export const roundInfoSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('train'),
    clientId: z.number().int().min(0),
    round: z.number().int().min(1),
    /** The model version (completed rounds) the client must train from: round − 1. */
    modelVersion: z.number().int().min(0),
    /** Client work to run (the strategy's `clientWork`, e.g. 'fedavg'). */
    algorithm: z.string(),
    nItems: z.number().int().positive(),
    plan: roundPlanSchema,
    deadlineAt: z.number(),
  }),
  z.object({
    status: z.literal('wait'),
    clientId: z.number().int().min(0),
    round: z.number().int().min(0),
    reason: z.string(),
    retryAfterMs: z.number().int().min(0),
  }),
  z.object({
    status: z.literal('done'),
    clientId: z.number().int().min(0),
    /** Completed rounds; the final model has this version. */
    round: z.number().int().min(0),
    algorithm: z.string(),
    nItems: z.number().int().positive(),
    plan: roundPlanSchema,
  }),
]);

export type RoundInfo = z.infer<typeof roundInfoSchema>;

export const updateAckSchema = z.object({
  accepted: z.literal(true),
  round: z.number().int(),
  clipped: z.boolean(),
  updatesInRound: z.number().int(),
});

export type UpdateAck = z.infer<typeof updateAckSchema>;

export const catalogueSchema = z.object({
  nItems: z.number().int().positive(),
  itemIds: z.array(z.string()),
  titles: z.array(z.string()),
  /** Dense ids of the most popular items, to offer for rating first. */
  featured: z.array(z.number().int().min(0)),
});

export type Catalogue = z.infer<typeof catalogueSchema>;

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
}
