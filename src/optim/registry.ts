/** Builds an optimiser from its config. */
import { LazyAdam } from './adam.js';
import { Sgd } from './sgd.js';
import type { Optimizer, OptimizerConfig } from './types.js';

export function createOptimizer(config: OptimizerConfig): Optimizer {
  return config.kind === 'adam' ? new LazyAdam(config) : new Sgd(config);
}
