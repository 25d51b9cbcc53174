/** The benchmark table: name → function printing its figures. Each capability registers its own. */
import { engineBenchmark } from './engine.js';
import { fedreconBenchmark } from './fedrecon.js';
import { graphBenchmark, graphCompareBenchmark } from './graph.js';
import { privacyBenchmark } from './privacy.js';
import { serverBenchmark } from './server.js';
import { textGraphBenchmark, textGraphCompareBenchmark } from './text-graph.js';

export const benchmarks: Record<string, () => Promise<void>> = {
  engine: engineBenchmark,
  fedrecon: fedreconBenchmark,
  graph: graphBenchmark,
  'graph-compare': graphCompareBenchmark,
  privacy: privacyBenchmark,
  server: serverBenchmark,
  'text-graph': textGraphBenchmark,
  'text-graph-compare': textGraphCompareBenchmark,
};
