/**
 * The settings of a LightGCN / NCL run (He et al., SIGIR 2020; Lin et al., WWW 2022), read from
 * the validated TrainConfig.
 */
import type { OptimizerConfig } from '../optim/types.js';
import type { TrainConfig } from './config.js';
import { clientOptimizerOf, effectiveBatch } from './config-derived.js';
import { isGraphModel } from './graph-defaults.js';

export interface NclSettings {
  readonly hyperLayers: number;
  readonly sslTemp: number;
  readonly sslReg: number;
  readonly alpha: number;
  readonly protoReg: number;
  readonly clusters: number;
  readonly kmeansIterations: number;
  /** Epochs (central) or rounds (federated) without the prototype term. */
  readonly warmUp: number;
}

export interface GraphSettings {
  readonly dim: number;
  readonly layers: number;
  readonly reg: number;
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: OptimizerConfig;
  readonly evalEvery: number;
  readonly seed: number;
  /** NCL's terms; null for LightGCN. */
  readonly ncl: NclSettings | null;
}

export function graphSettings(c: TrainConfig): GraphSettings {
  if (!isGraphModel(c.model)) throw new Error(`graphSettings: model '${c.model}' is not a graph model`);
  return {
    dim: c.dim,
    layers: c.gcnLayers,
    reg: c.regWeight,
    epochs: c.epochs,
    batch: effectiveBatch(c),
    optimizer: clientOptimizerOf(c),
    evalEvery: c.evalEvery,
    seed: c.seed,
    ncl: c.model === 'ncl'
      ? {
          hyperLayers: c.hyperLayers,
          sslTemp: c.sslTemp,
          sslReg: c.sslReg,
          alpha: c.sslAlpha,
          protoReg: c.protoReg,
          clusters: c.clusters,
          kmeansIterations: c.kmeansIterations,
          warmUp: c.warmUp,
        }
      : null,
  };
}
