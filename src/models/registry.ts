/** Builds a model from its config: the one place that maps a `ModelKind` to a class. */
import { IalsModel, ialsParamInfo } from './ials/ials.js';
import { MatrixFactorization, mfParamInfo } from './mf/mf.js';
import { NeuMF, neumfParamInfo } from './neumf/neumf.js';
import type { ModelConfig, ParamInfo, Params, RecModel } from './types.js';

export const MODEL_KINDS = ['mf', 'neumf', 'ials'] as const;

export function createModel(config: ModelConfig, nUsers: number, nItems: number, params: Params | { seed: number }): RecModel {
  switch (config.kind) {
    case 'mf':
      return new MatrixFactorization(config, nUsers, nItems, params);
    case 'neumf':
      return new NeuMF(config, nUsers, nItems, params);
    case 'ials':
      return new IalsModel(config, nUsers, nItems, params);
  }
}

/** The parameter tables of a model of this config and size, without allocating them. */
export function modelParamInfo(config: ModelConfig, nUsers: number, nItems: number): ParamInfo[] {
  if (config.kind === 'ials') return ialsParamInfo(nUsers, nItems, config.dim);
  return config.kind === 'mf' ? mfParamInfo(nUsers, nItems, config.dim) : neumfParamInfo(nUsers, nItems, config);
}
