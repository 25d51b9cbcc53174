/**
 * The coordinator's configuration file, validated once at start:
 *   { "training":    { ...the fields of `fedrec train` (config/config.ts): data, model, rounds,
 *                      localEpochs, lr, seed, ... — the plan every round sends },
 *     "coordinator": { minClients, clientsPerRound, roundDeadlineSeconds, normBound, normMode, ... } }
 * `training.data` (or the synthetic-data fields) gives the item catalogue; the coordinator never
 * sees any interaction of a client.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseTrainConfig, type TrainConfig } from '../config/config.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { accountedNoiseMultiplier } from '../privacy/dp-fedavg.js';
import { TRANSPORT_DEFAULTS } from './hardening.js';
import { secureAggregationSchema } from '../secagg/settings.js';

const positiveInt = z.number().int().positive();

export const coordinatorSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Quorum: a round closes at its deadline only with at least this many updates. */
    minClients: positiveInt.default(1),
    /** Clients chosen per round (seeded, among registered clients); all registered clients when absent. */
    clientsPerRound: positiveInt.optional(),
    roundDeadlineSeconds: z.number().positive().default(60),
    /** L2 bound on a whole update (all deltas); none when absent. */
    normBound: z.number().positive().optional(),
    normMode: z.enum(['reject', 'clip']).default('reject'),
    /** Largest aggregation weight a client may claim. */
    maxWeight: z.number().positive().default(1_000_000),
    /** Largest update body in bytes; default: a dense update of every table plus 64 KiB. */
    maxUpdateBytes: positiveInt.optional(),
    keepCheckpoints: positiveInt.default(5),
    /** How often the coordinator checks deadlines, ms. */
    tickMs: positiveInt.default(200),
    /** What a waiting client is told to wait before asking again, ms. */
    retryAfterMs: z.number().int().min(0).default(300),
    /** The browser bundle served at /client.js (built on first start when missing). */
    bundlePath: z.string().optional(),
    /**
     * Initial value of the model's `globalBias` (a fresh database only). Explicit-feedback FedRecon
     * starts it at the mean rating, which the simulation computes as a federated sum; the
     * coordinator never sees a rating, so the operator supplies it. Model init (≈ 0) when absent.
     */
    initialGlobalBias: z.number().finite().optional(),
    /**
     * User-level DP (training.dpClip set): the most ε (at training.dpDelta) the run may spend; a
     * round that would exceed it is not opened and training ends there. No budget when absent.
     */
    dpEpsilonBudget: z.number().positive().optional(),
    // Hostile networks (server/hardening.ts): timeouts, connection cap, per-token rate limit, CORS, TLS.
    maxConnections: positiveInt.default(TRANSPORT_DEFAULTS.maxConnections),
    idleTimeoutSeconds: z.number().positive().default(TRANSPORT_DEFAULTS.idleTimeoutSeconds),
    headersTimeoutSeconds: z.number().positive().default(TRANSPORT_DEFAULTS.headersTimeoutSeconds),
    requestTimeoutSeconds: z.number().positive().default(TRANSPORT_DEFAULTS.requestTimeoutSeconds),
    keepAliveTimeoutSeconds: z.number().positive().default(TRANSPORT_DEFAULTS.keepAliveTimeoutSeconds),
    /** Requests per minute per token on /v1 (0: no limit). */
    rateLimitPerMinute: z.number().int().min(0).default(TRANSPORT_DEFAULTS.rateLimitPerMinute),
    /** Origins allowed to call the coordinator from another site's page (none by default). */
    corsOrigins: z.array(z.string()).default([]),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    /** A round short of its quorum at the deadline is extended at most this many times, then aborted. */
    maxDeadlineExtensions: z.number().int().min(0).default(10),
    /** Secure aggregation (secagg/settings.ts, docs/secure-aggregation.md); absent: updates arrive in the clear. */
    secureAggregation: secureAggregationSchema.optional(),
  })
  .strict();

export type CoordinatorOptions = Readonly<z.infer<typeof coordinatorSchema>>;

export interface ServerConfig {
  readonly training: TrainConfig;
  readonly coordinator: CoordinatorOptions;
}

export function parseServerConfig(raw: unknown, source = 'config'): ServerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: expected a JSON object with "training" and "coordinator"`);
  const { training = {}, coordinator = {}, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new ConfigError(`${source}: unknown key(s) ${extra.join(', ')}; expected "training" and "coordinator"`);
  let t: TrainConfig;
  try {
    // a deployment's DP noise comes from the CSPRNG unless the config asks for seeded noise (tests)
    t = parseTrainConfig({ dpNoise: 'secure', ...(training as object), mode: 'federated' });
  } catch (err) {
    throw new ConfigError(`${source}: training: ${(err as Error).message}`);
  }
  const parsed = coordinatorSchema.safeParse(coordinator);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  coordinator.${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`${source}: invalid configuration:\n${lines.join('\n')}`);
  }
  if (t.dpClip !== undefined && t.dpDelta === undefined) {
    throw new ConfigError(`${source}: training.dpDelta is required with training.dpClip (a coordinator does not know its population in advance, so δ = 1/N^1.1 cannot be its default)`);
  }
  if (t.dpQuantile !== undefined && t.dpCountNoise === undefined) {
    throw new ConfigError(`${source}: training.dpCountNoise (σ_b, e.g. m/20 for m expected clients per round) is required with adaptive clipping (training.dpQuantile) on a coordinator`);
  }
  if (t.dpClip === undefined && parsed.data.dpEpsilonBudget !== undefined) {
    throw new ConfigError(`${source}: coordinator.dpEpsilonBudget needs user-level DP (training.dpClip)`);
  }
  if (t.dpClip !== undefined && parsed.data.clientsPerRound !== undefined) {
    throw new ConfigError(`${source}: coordinator.clientsPerRound: under DP clients are Poisson-sampled at rate training.fraction; remove clientsPerRound`);
  }
  const budget = parsed.data.dpEpsilonBudget;
  if (budget !== undefined && t.dpDelta !== undefined) {
    const secureFloor = parsed.data.secureAggregation && t.dpMode === 'distributed' ? parsed.data.secureAggregation.threshold : undefined;
    const charged = accountedNoiseMultiplier({ noiseMultiplier: t.dpNoiseMultiplier, mode: t.dpMode, minFraction: secureFloor });
    const first = epsilonOf({ samplingRate: t.fraction ?? 1, noiseMultiplier: charged, rounds: 1, delta: t.dpDelta }).epsilon;
    if (first > budget) throw new ConfigError(`${source}: coordinator.dpEpsilonBudget ${budget} is below the ε of a single round (${first.toFixed(4)}): no round could run`);
  }
  if (t.dpClip !== undefined && t.dpMode === 'central' && parsed.data.secureAggregation) {
    throw new ConfigError(`${source}: coordinator.secureAggregation with training.dpMode 'central': central DP clips each update at the coordinator, which secure aggregation hides; use training.dpMode 'distributed' (each device clips and adds its noise share)`);
  }
  if (t.dpMode === 'distributed' && parsed.data.normBound !== undefined) {
    throw new ConfigError(`${source}: coordinator.normBound cannot check distributed-DP updates (each carries its noise share); the devices clip to training.dpClip`);
  }
  return { training: t, coordinator: parsed.data };
}

export function readServerConfig(file: string): ServerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: cannot read JSON (${(err as Error).message})`);
  }
  return parseServerConfig(raw, file);
}
