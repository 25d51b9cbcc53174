/**
 * Adam (Kingma & Ba 2015) in its lazy, row-sparse form (as TensorFlow's LazyAdam): only the rows
 * touched by the current gradient update their moments and values, so an embedding table costs
 * O(touched rows) per step. For dense tables every row is touched and this is plain Adam.
 * Bias correction uses the optimiser's global step count.
 */
import type { Grads } from '../models/types.js';
import type { Optimizer, OptimizerConfig } from './types.js';

export class LazyAdam implements Optimizer {
  private readonly m: Record<string, Float32Array> = {};
  private readonly v: Record<string, Float32Array> = {};
  private t = 0;
  constructor(private readonly config: OptimizerConfig) {}

  step(tables: { readonly [name: string]: Float32Array }, grads: Grads, names: readonly string[]): void {
    const { lr, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = this.config;
    this.t++;
    const c1 = 1 - Math.pow(beta1, this.t);
    const c2 = 1 - Math.pow(beta2, this.t);
    const stepSize = (lr * Math.sqrt(c2)) / c1;
    const epsHat = eps * Math.sqrt(c2);
    for (const name of names) {
      const theta = tables[name];
      const g = grads.values[name];
      const width = grads.width(name);
      const m = (this.m[name] ??= new Float32Array(theta.length));
      const v = (this.v[name] ??= new Float32Array(theta.length));
      const rows = grads.touchedRows(name);
      const b1c = 1 - beta1;
      const b2c = 1 - beta2;
      for (let ri = 0; ri < rows.length; ri++) {
        const start = rows[ri] * width;
        for (let k = start, end = start + width; k < end; k++) {
          const gk = g[k] + weightDecay * theta[k];
          const mk = beta1 * m[k] + b1c * gk;
          const vk = beta2 * v[k] + b2c * gk * gk;
          m[k] = mk;
          v[k] = vk;
          theta[k] -= (stepSize * mk) / (Math.sqrt(vk) + epsHat);
        }
      }
    }
  }
}
