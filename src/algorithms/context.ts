/**
 * What the engines hand an algorithm's server side (`ServerContext`), derived from the run config in
 * this one place, so the simulation and the coordinator build the same server.
 */
import type { ParamInfo } from '../models/types.js';
import { ConfigError, planWeightCap, serverOptimizerOf, type TrainConfig } from '../config/config.js';
import { findAlgorithm } from './registry.js';
import type { Algorithm, ServerContext } from './types.js';

export function serverContextOf(training: TrainConfig, info: readonly ParamInfo[], nItems: number): ServerContext {
  const sum = {
    weightCap: planWeightCap(training, nItems),
    serverOptimizer: serverOptimizerOf(training),
    rowAveraging: training.rowAveraging,
    clientWeighting: training.clientWeighting,
    clipNorm: training.clipNorm,
    adaptiveClip: training.adaptiveClip,
    trimFraction: training.trimFraction,
    rowShare: training.rowShare,
    rowSpread: training.rowSpread,
    centerItems: training.centerItems ?? false,
  };
  return { info, nItems, training, sum };
}

/** The registered algorithm `name`, or a ConfigError naming the ones there are. */
export function algorithmNamed(name: string, where = 'algorithm'): Algorithm {
  const found = findAlgorithm(name);
  if (!found) throw new ConfigError(`${where} '${name}' is not a registered federated algorithm (src/algorithms/registry.ts)`);
  return found;
}
