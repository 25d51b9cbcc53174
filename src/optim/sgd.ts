/** Plain SGD with optional L2 weight decay and heavy-ball momentum, touched rows only. */
import type { Grads } from '../models/types.js';
import type { Optimizer, OptimizerConfig } from './types.js';

export class Sgd implements Optimizer {
  private readonly velocity: Record<string, Float32Array> = {};
  constructor(private readonly config: OptimizerConfig) {}

  step(tables: { readonly [name: string]: Float32Array }, grads: Grads, names: readonly string[]): void {
    const { lr, weightDecay = 0, momentum = 0 } = this.config;
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
