/**
 * Adam (Kingma & Ba 2015) in its lazy, row-sparse form (as TensorFlow's LazyAdam): only the rows
 * touched by the current gradient update their moments and values, so an embedding table costs
 * O(touched rows) per step. For dense tables every row is touched and this is plain Adam.
 * Bias correction uses the optimiser's global step count.
 */
import type { Grads } from '../models/types.js';
import { checkStep, parseSlotKey, type Optimizer, type OptimizerConfig, type OptimizerState } from './types.js';

export class LazyAdam implements Optimizer {
  private m: Record<string, Float32Array> = {};
  private v: Record<string, Float32Array> = {};
  private t = 0;
  constructor(private readonly config: OptimizerConfig) {}

  /** The step count and 'm/<table>', 'v/<table>' (first and second moments) per table stepped. */
  exportState(): OptimizerState {
    const tables: Record<string, Float32Array> = {};
    for (const [name, m] of Object.entries(this.m)) tables[`m/${name}`] = m.slice();
    for (const [name, v] of Object.entries(this.v)) tables[`v/${name}`] = v.slice();
    return { step: this.t, tables };
  }

  importState(state: OptimizerState): void {
    checkStep(state.step, 'Adam');
    const slots: Record<string, Record<string, Float32Array>> = { m: {}, v: {} };
    for (const [key, values] of Object.entries(state.tables)) {
      const { slot, table } = parseSlotKey(key, ['m', 'v'], 'Adam');
      slots[slot][table] = values.slice();
    }
    for (const table of new Set([...Object.keys(slots.m), ...Object.keys(slots.v)])) {
      const m = slots.m[table];
      const v = slots.v[table];
      if (!m || !v) throw new Error(`Adam state: table '${table}' has ${m ? "'m' but no 'v'" : "'v' but no 'm'"}`);
      if (m.length !== v.length) throw new Error(`Adam state: table '${table}' has m of ${m.length} values but v of ${v.length}`);
    }
    this.m = slots.m;
    this.v = slots.v;
    this.t = state.step;
  }

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
