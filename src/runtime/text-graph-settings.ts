/**
 * The settings of a text-graph run read from the validated TrainConfig (UFGraphFR: Wang, Hao, Xiao,
 * arXiv 2501.08044; GPFedRec: Zhang et al., KDD 2024): the model's shape and graph aggregation's
 * options. The run recipe (text-graph-experiment.ts) and the graph algorithm (algorithms/graph.ts)
 * both build from here.
 */
import type { GraphOptions } from '../federated/graph.js';
import type { TextGraphConfig } from '../models/text-graph/model.js';
import { serverOptimizerOf, type TrainConfig } from './config.js';

/** The text-graph model's shape under config c; `textDim` is the encoder's output size. */
export function textGraphConfigOf(c: TrainConfig, textDim: number): TextGraphConfig {
  return { textDim, dim: c.dim, layers: c.layers, lambda: c.lambda, dot: c.head === 'mlp+dot', recentItems: c.recentItems };
}

/** Graph aggregation's options under config c (neighbours, layers, norm, sketch, personal rows, server optimiser). */
export function graphOptionsOf(c: TrainConfig): GraphOptions {
  return {
    neighbors: c.neighbors, layers: c.graphLayers, norm: c.norm, selfLoop: c.selfLoop, sketchDim: c.sketchDim, seed: c.seed,
    personalRows: c.personalRows, serverOptimizer: serverOptimizerOf(c),
  };
}
