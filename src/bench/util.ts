/** Small helpers for benchmarks: timing, peak RSS, data from ../shared/data with a clear fallback. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function seconds<T>(fn: () => T): { value: T; seconds: number } {
  const t = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - t) / 1000 };
}

/** Peak resident set size of this process so far, in MiB (Linux ru_maxrss is in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Path of MovieLens-100K in ../shared/data, or null (with a message) when it is absent. */
export function ml100kPath(): string | null {
  const candidates = [process.env.FEDREC_ML100K, resolve(process.cwd(), '../shared/data/ml-100k')].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(resolve(c, 'u.data'))) return c;
  process.stdout.write('MovieLens-100K not found at ../shared/data/ml-100k (or $FEDREC_ML100K): using synthetic data of the same shape\n');
  return null;
}
