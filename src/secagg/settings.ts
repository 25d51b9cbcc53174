/**
 * `coordinator.secureAggregation` in the coordinator's configuration (server/config.ts), and the
 * per-round settings the coordinator derives from it and sends in the plan (`plan.secure`).
 * Absent: rounds run as before (updates in the clear).
 */
import { z } from 'zod';

/** Bound on |w·Δ| per value (w: the client's weight, its examples); chosen on ML-100K training updates (docs/secure-aggregation.md). */
export const DEFAULT_CLIP = 65536;

/** Shamir threshold fraction when none is configured (also the DP floor τ under distributed DP). */
export const DEFAULT_THRESHOLD = 0.6;

export const secureAggregationSchema = z
  .object({
    /** Shamir threshold as a fraction of the planned participants (of a neighbourhood with SecAgg+): t = max(2, ⌈threshold · n⌉). */
    threshold: z.number().gt(0.5).max(1).default(DEFAULT_THRESHOLD),
    /** SecAgg+ degree k (even): each client masks with k neighbours; absent: with every other client (SecAgg). */
    neighbours: z.number().int().min(2).max(254).refine((k) => k % 2 === 0, 'must be even').optional(),
    /** Bound on |w·Δ| per value before fixed-point encoding. */
    clip: z.number().positive().default(DEFAULT_CLIP),
    /** Seconds each protocol phase waits for the clients it expects; default the round deadline. */
    phaseSeconds: z.number().positive().optional(),
  })
  .strict();

export type SecureAggregationOptions = Readonly<z.infer<typeof secureAggregationSchema>>;
