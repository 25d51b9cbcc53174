/**
 * The configuration of a training run, validated once at the edge (CLI flags or a JSON file) by a
 * zod schema that carries the defaults. Inside, code receives the parsed, readonly `TrainConfig`.
 * Defaults are the tuned ones: plain `fedrec train --data ml-100k --mode federated` reaches the
 * quality targets without flags.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const probability = z.number().gt(0).lte(1);

export const trainConfigSchema = z
  .object({
    data: z.string().optional(),
    format: z.enum(['auto', 'ml-100k', 'ml-1m', 'csv']).default('auto'),
    columns: z.array(z.string()).optional(),
    sep: z.string().optional(),
    ratingThreshold: z.number().optional(),
    syntheticUsers: positiveInt.default(943),
    syntheticItems: positiveInt.default(1682),
    syntheticInteractions: positiveInt.default(100_000),
    split: z.string().default('loo'),
    model: z.enum(['mf', 'neumf']).default('mf'),
    dim: positiveInt.default(32),
    layers: z.array(positiveInt).default([32, 16, 8]),
    mode: z.enum(['central', 'federated']).default('federated'),
    algorithm: z.enum(['fedavg']).default('fedavg'),
    loss: z.enum(['bce', 'bpr']).default('bce'),
    rounds: positiveInt.default(60),
    epochs: positiveInt.default(20),
    clientsPerRound: positiveInt.optional(),
    fraction: probability.optional(),
    usersPerClient: positiveInt.default(1),
    localEpochs: positiveInt.default(2),
    batch: positiveInt.optional(),
    lr: z.number().positive().optional(),
    optimizer: z.enum(['sgd', 'adam']).default('adam'),
    l2: z.number().min(0).default(0),
    serverLr: z.number().positive().default(1),
    serverMomentum: z.number().min(0).lt(1).default(0),
    rowAveraging: z.enum(['touched', 'all']).default('touched'),
    negatives: positiveInt.default(4),
    eval: z.array(z.enum(['sampled', 'full'])).min(1).default(['sampled', 'full']),
    k: z.array(positiveInt).min(1).default([10, 20]),
    evalEvery: positiveInt.default(5),
    seed: z.number().int().default(42),
  })
  .strict()
  .refine((c) => !(c.clientsPerRound !== undefined && c.fraction !== undefined), {
    message: 'give either clientsPerRound or fraction, not both',
  });

export type TrainConfig = Readonly<z.infer<typeof trainConfigSchema>>;

/** Validate raw options; the error names every bad field and what was expected. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const parsed = trainConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Mode-dependent defaults: learning rate and batch size. */
export function effectiveLr(c: TrainConfig): number {
  return c.lr ?? (c.mode === 'central' ? 0.002 : 0.01);
}

export function effectiveBatch(c: TrainConfig): number {
  return c.batch ?? (c.mode === 'central' ? 256 : 32);
}
