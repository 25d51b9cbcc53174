/** The benchmark table: name → function printing its figures. Each capability registers its own. */
import { engineBenchmark } from './engine.js';

export const benchmarks: Record<string, () => Promise<void>> = {
  engine: engineBenchmark,
};
