/**
 * The DP settings of a run from its training config (the same for `fedrec train` and the
 * coordinator's `training` section): on when `dpClip` is set; the Poisson sampling rate q is the
 * config's `fraction` (1 when absent); δ defaults to 1/N^1.1; adaptive clipping when `dpQuantile`
 * is set, with the count noise σ_b = m/20 of Andrew et al. unless given.
 */
import type { TrainConfig } from '../config/config.js';
import { defaultDelta, type DpSettings } from './dp-fedavg.js';

export function dpSettingsOf(c: TrainConfig, population: number): DpSettings | null {
  if (c.dpClip === undefined) return null;
  const q = c.fraction ?? 1;
  const m = q * population;
  return {
    clip: c.dpClip,
    noiseMultiplier: c.dpNoiseMultiplier,
    samplingRate: q,
    delta: c.dpDelta ?? defaultDelta(population),
    mode: c.dpMode,
    adaptive: c.dpQuantile !== undefined ? { quantile: c.dpQuantile, lr: c.dpClipLr, countNoise: c.dpCountNoise ?? m / 20 } : undefined,
    noise: c.dpNoise,
    seed: c.seed,
  };
}
