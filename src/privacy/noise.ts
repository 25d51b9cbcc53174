/**
 * Gaussian noise for differential privacy, from one of two sources:
 *  - 'secure': the platform CSPRNG (WebCrypto getRandomValues, in Node and in browsers), 53-bit
 *    uniforms, Box–Muller. Nobody can recompute it: what a deployment uses.
 *  - 'seeded': the run's seeded stream (math/rng.ts). Reproducible — the same seed gives the same
 *    noise, so a simulation and a deployment can be compared exactly — and therefore NOT private
 *    against anyone who knows the seed. For simulations, tests and benchmarks.
 * Floating-point Gaussian sampling is not exactly the ideal mechanism (Mironov, CCS 2012; Jin et
 * al., S&P 2022): docs/privacy.md states this limitation.
 */
import { Rng } from '../math/rng.js';

export type NoiseSource = 'seeded' | 'secure';

export interface Gaussian {
  /** A standard normal deviate. */
  normal(): number;
}

/** Standard normals from the platform CSPRNG. */
export class SecureGaussian implements Gaussian {
  private readonly words = new Uint32Array(256);
  private at = 256;
  private spare: number | null = null;

  private uniform(): number {
    if (this.at + 2 > this.words.length) {
      globalThis.crypto.getRandomValues(this.words);
      this.at = 0;
    }
    const hi = this.words[this.at++] >>> 5; // 27 bits
    const lo = this.words[this.at++] >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992; // [0, 1), 53 bits
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** The noise of one use (a round on the server, a client's round): seeded streams are derived from (seed, parts). */
export function gaussianFor(source: NoiseSource, seed: number, ...parts: (string | number)[]): Gaussian {
  return source === 'secure' ? new SecureGaussian() : Rng.derive(seed, 'dp-noise', ...parts);
}
