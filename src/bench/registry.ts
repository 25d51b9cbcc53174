/** The benchmark table: name → function printing its figures. Each capability registers its own. */
import { clusterBenchmark } from './cluster.js';
import { engineBenchmark } from './engine.js';
import { fedreconBenchmark } from './fedrecon.js';
import { graphBenchmark, graphCompareBenchmark } from './graph.js';
import { scaleBenchmark } from './scale.js';
import { serverBenchmark } from './server.js';
import { textGraphBenchmark, textGraphCompareBenchmark } from './text-graph.js';

export const benchmarks: Record<string, () => Promise<void>> = {
  cluster: clusterBenchmark,
  engine: engineBenchmark,
  fedrecon: fedreconBenchmark,
  graph: graphBenchmark,
  'graph-compare': graphCompareBenchmark,
  scale: scaleBenchmark,
  server: serverBenchmark,
  'text-graph': textGraphBenchmark,
  'text-graph-compare': textGraphCompareBenchmark,
};
