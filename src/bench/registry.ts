/** The benchmark table: name → function printing its figures. Each capability registers its own. */
import { clusterBenchmark } from './cluster.js';
import { dpBenchmark } from './dp.js';
import { attacksBenchmark } from './attacks.js';
import { engineBenchmark } from './engine.js';
import { fedreconBenchmark } from './fedrecon.js';
import { graphBenchmark, graphCompareBenchmark } from './graph.js';
import { looFullBenchmark } from './loo-full.js';
import { privacyBenchmark } from './privacy.js';
import { scaleBenchmark } from './scale.js';
import { serverBenchmark } from './server.js';
import { simdParityBenchmark } from './simd-parity.js';
import { textGraphBenchmark, textGraphCompareBenchmark } from './text-graph.js';
import { textGraphServerBenchmark } from './text-graph-server.js';

export const benchmarks: Record<string, () => Promise<void>> = {
  dp: dpBenchmark,
  attacks: attacksBenchmark,
  cluster: clusterBenchmark,
  engine: engineBenchmark,
  fedrecon: fedreconBenchmark,
  graph: graphBenchmark,
  'graph-compare': graphCompareBenchmark,
  'loo-full': looFullBenchmark,
  privacy: privacyBenchmark,
  scale: scaleBenchmark,
  server: serverBenchmark,
  'simd-parity': simdParityBenchmark,
  'text-graph': textGraphBenchmark,
  'text-graph-compare': textGraphCompareBenchmark,
  'text-graph-server': textGraphServerBenchmark,
};
