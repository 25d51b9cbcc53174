/**
 * Random-projection sketches for the user-similarity graph of UFGraphFR (Wang, Hao, Xiao,
 * J. Supercomputing 2026, arXiv 2501.08044, Eq. 15) at scale: vec(W_u) is textDim·d wide (16,384
 * for USE and d = 32), so 6040 users' exact pairwise cosines cost ~3·10^11 multiply-adds. A sparse
 * Johnson–Lindenstrauss projection (Kane & Nelson's sparse JL: every input coordinate is added to
 * `perColumn` seeded buckets with seeded signs, scaled by 1/√perColumn) maps it to `width` values
 * in O(input·perColumn) time and preserves inner products in expectation, variance
 * O(‖x‖²‖y‖²/width). The default perColumn = 1 is the CountSketch (Charikar et al. 2002), whose
 * inner-product variance is already within 2‖x‖²‖y‖²/width, at a quarter of the work of 4.
 * Sketches are L2-normalised, so a dot product of two sketches estimates the cosine.
 * `width = 0` selects exact mode: the normalised vector itself.
 */
import { Rng } from '../math/rng.js';

export class VectorSketch {
  private readonly buckets: Int32Array; // [inputDim * perColumn]
  private readonly signs: Float32Array; // [inputDim * perColumn]
  /** Output width: `width`, or `inputDim` in exact mode. */
  readonly outDim: number;

  constructor(
    readonly inputDim: number,
    readonly width: number,
    seed: number,
    private readonly perColumn = 1,
  ) {
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`sketch width must be a non-negative integer (0 = exact), got ${width}`);
    this.outDim = width === 0 ? inputDim : width;
    const n = width === 0 ? 0 : inputDim * perColumn;
    this.buckets = new Int32Array(n);
    this.signs = new Float32Array(n);
    const rng = Rng.derive(seed, 'graph-sketch');
    const scale = 1 / Math.sqrt(perColumn);
    for (let k = 0; k < n; k++) {
      this.buckets[k] = rng.int(width);
      this.signs[k] = rng.next() < 0.5 ? -scale : scale;
    }
  }

  /** Write the unit-norm sketch of x [inputDim] into out[offset .. offset + outDim). */
  sketch(x: Float32Array, out: Float32Array, offset: number): void {
    if (x.length !== this.inputDim) throw new Error(`sketch: expected a vector of ${this.inputDim} values, got ${x.length}`);
    const o = out.subarray(offset, offset + this.outDim);
    if (this.width === 0) o.set(x);
    else if (this.perColumn === 1) {
      // `add` with one bucket per column, inline (the server sketches every upload)
      o.fill(0);
      const { buckets, signs } = this;
      for (let c = 0; c < x.length; c++) {
        const v = x[c];
        if (v !== 0) o[buckets[c]] += signs[c] * v;
      }
    } else {
      o.fill(0);
      for (let c = 0; c < x.length; c++) this.add(o, c, x[c]);
    }
    this.normalise(o);
  }

  /**
   * The sketch of a row-sparse vector without building it: x[rows[k]·width + f] = values[k·width + f]
   * (rows ascending), zero elsewhere; the same result as `sketch` of the dense x.
   */
  sketchRows(rows: Int32Array, values: Float32Array, width: number, out: Float32Array, offset: number): void {
    if (values.length !== rows.length * width) throw new Error(`sketch: ${values.length} values for ${rows.length} rows of width ${width}`);
    const o = out.subarray(offset, offset + this.outDim).fill(0);
    for (let k = 0; k < rows.length; k++) {
      const base = rows[k] * width;
      if (rows[k] < 0 || base + width > this.inputDim) throw new Error(`sketch: row ${rows[k]} is outside a vector of ${this.inputDim} values`);
      for (let f = 0; f < width; f++) {
        if (this.width === 0) o[base + f] = values[k * width + f];
        else this.add(o, base + f, values[k * width + f]);
      }
    }
    this.normalise(o);
  }

  private add(o: Float32Array, c: number, v: number): void {
    if (v === 0) return;
    const p = this.perColumn;
    for (let k = c * p, end = k + p; k < end; k++) o[this.buckets[k]] += this.signs[k] * v;
  }

  private normalise(o: Float32Array): void {
    let s = 0;
    for (let k = 0; k < o.length; k++) s += o[k] * o[k];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < o.length; k++) o[k] *= inv;
    }
  }
}
