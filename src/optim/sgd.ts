/** Plain SGD with optional L2 weight decay and heavy-ball momentum, touched rows only. */
import type { Grads } from '../models/types.js';
import { checkStep, parseSlotKey, type Optimizer, type OptimizerConfig, type OptimizerState } from './types.js';

export class Sgd implements Optimizer {
  private velocity: Record<string, Float32Array> = {};
  private t = 0;
  constructor(private readonly config: OptimizerConfig) {}

  /** Steps taken and, with momentum, 'velocity/<table>' per table stepped; plain SGD keeps no slots. */
  exportState(): OptimizerState {
    const tables: Record<string, Float32Array> = {};
    for (const [name, vel] of Object.entries(this.velocity)) tables[`velocity/${name}`] = vel.slice();
    return { step: this.t, tables };
  }

  importState(state: OptimizerState): void {
    checkStep(state.step, 'SGD');
    const slots = (this.config.momentum ?? 0) > 0 ? ['velocity'] : [];
    const velocity: Record<string, Float32Array> = {};
    for (const [key, values] of Object.entries(state.tables)) velocity[parseSlotKey(key, slots, 'SGD').table] = values.slice();
    this.velocity = velocity;
    this.t = state.step;
  }

  step(tables: { readonly [name: string]: Float32Array }, grads: Grads, names: readonly string[]): void {
    const { lr, weightDecay = 0, momentum = 0 } = this.config;
    this.t++;
    for (const name of names) {
      const theta = tables[name];
      const g = grads.values[name];
      const width = grads.width(name);
      const vel = momentum > 0 ? (this.velocity[name] ??= new Float32Array(theta.length)) : null;
      for (const r of grads.touchedRows(name)) {
        for (let k = r * width, end = k + width; k < end; k++) {
          let gk = g[k] + weightDecay * theta[k];
          if (vel) {
            vel[k] = momentum * vel[k] + gk;
            gk = vel[k];
          }
          theta[k] -= lr * gk;
        }
      }
    }
  }
}
