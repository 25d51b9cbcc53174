/**
 * A `Grads` view over dense gradient arrays, for trainers whose gradients reach every row (graph
 * propagation spreads a batch's gradient over the whole graph). Every row counts as touched, so
 * the lazy optimisers update all rows: LazyAdam becomes plain Adam.
 */
import type { Grads } from '../models/types.js';

/** `values[name]` holds `rows × widths[name]` gradient values; zeroing is the caller's job. */
export function denseGrads(values: Readonly<Record<string, Float32Array>>, widths: Readonly<Record<string, number>>): Grads {
  const rows: Record<string, Int32Array> = {};
  for (const [name, v] of Object.entries(values)) {
    const width = widths[name];
    if (!(width > 0) || v.length % width !== 0) throw new RangeError(`denseGrads: table '${name}' has ${v.length} values, not a multiple of width ${width}`);
    rows[name] = Int32Array.from({ length: v.length / width }, (_, r) => r);
  }
  return {
    values,
    touch: () => undefined,
    touchUser: () => undefined,
    touchItem: () => undefined,
    touchedRows: (name) => rows[name],
    width: (name) => widths[name],
    reset: () => {
      for (const v of Object.values(values)) v.fill(0);
    },
  };
}
