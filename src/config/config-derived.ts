/**
 * What a run derives from its validated config, and the error a bad config raises: importable
 * without the config schema (config/config.ts re-exports them). Algorithm modules use these, since
 * the schema itself imports the algorithm registry to compose its fields (src/algorithms/types.ts).
 */
import type { z } from 'zod';
import type { OptimizerConfig } from '../optim/types.js';
import type { TrainConfig } from './config.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The schema's findings (field path, code, message, the value given), for callers that word them their own way. */
  constructor(message: string, readonly issues: readonly z.core.$ZodIssue[] = []) {
    super(message);
  }
}

/** The optimiser a client (or the centralised trainer) steps with: the run's kind, lr and L2 as weight decay. */
export function clientOptimizerOf(c: TrainConfig): OptimizerConfig {
  return { kind: c.optimizer, lr: effectiveLr(c), weightDecay: c.l2 };
}

/** Mode-dependent defaults: learning rate and batch size. */
export function effectiveLr(c: TrainConfig): number {
  return c.lr ?? (c.mode === 'central' ? 0.002 : 0.01);
}

export function effectiveBatch(c: TrainConfig): number {
  return c.batch ?? (c.mode === 'central' ? 256 : 32);
}
