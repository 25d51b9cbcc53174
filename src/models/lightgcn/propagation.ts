/**
 * LightGCN propagation (He et al., SIGIR 2020): E(l+1) = Â · E(l) over the symmetric-normalised
 * graph Â = D^-1/2 A D^-1/2 (no weights, no non-linearity), final embedding = mean of
 * E(0) .. E(L). `Propagation` owns the layer buffers of one graph (allocated once) and computes
 * the backward pass with Horner's scheme: gE(0) = G(0) + Âᵀ(G(1) + Âᵀ(G(2) + ...)), where G(l)
 * is the gradient reaching layer l directly (from the mean and from any loss on that layer).
 */
import { spmm, type Csr } from '../../math/sparse.js';

export class Propagation {
  /** Layer outputs E(0) .. E(depth), each [nNodes, dim]; E(0) is a copy of the embeddings given to forward. */
  readonly layers: Float32Array[];
  /** Mean of E(0) .. E(meanLayers): [nNodes, dim]. */
  readonly final: Float32Array;
  /** Gradient reaching each layer directly, [nNodes, dim] each; zeroed by `zeroGrads`. */
  readonly layerGrads: Float32Array[];
  private readonly scratch: Float32Array;

  /**
   * @param meanLayers L, the layers averaged into the final embedding
   * @param depth layers computed (≥ L; NCL needs layer 2k even when L < 2k)
   */
  constructor(
    readonly graph: Csr,
    readonly dim: number,
    readonly meanLayers: number,
    readonly depth: number = meanLayers,
  ) {
    if (graph.nRows !== graph.nCols) throw new RangeError(`Propagation: graph must be square, got ${graph.nRows}×${graph.nCols}`);
    if (!Number.isInteger(meanLayers) || meanLayers < 0) throw new RangeError(`Propagation: layers must be a non-negative integer, got ${meanLayers}`);
    if (!Number.isInteger(depth) || depth < meanLayers) throw new RangeError(`Propagation: depth ${depth} must be an integer ≥ layers ${meanLayers}`);
    const size = graph.nRows * dim;
    this.layers = Array.from({ length: depth + 1 }, () => new Float32Array(size));
    this.layerGrads = Array.from({ length: depth + 1 }, () => new Float32Array(size));
    this.final = new Float32Array(size);
    this.scratch = new Float32Array(size);
  }

  /** Computes every layer and the final mean from embeddings e0 [nNodes, dim]. */
  forward(e0: Float32Array): void {
    const { layers, final } = this;
    layers[0].set(e0);
    for (let l = 1; l <= this.depth; l++) spmm(this.graph, layers[l - 1], this.dim, layers[l]);
    const scale = 1 / (this.meanLayers + 1);
    final.set(layers[0]);
    for (let l = 1; l <= this.meanLayers; l++) {
      const e = layers[l];
      for (let k = 0; k < final.length; k++) final[k] += e[k];
    }
    for (let k = 0; k < final.length; k++) final[k] *= scale;
  }

  zeroGrads(): void {
    for (const g of this.layerGrads) g.fill(0);
  }

  /**
   * gE0[nNodes, dim] = ∂loss/∂E(0), given gFinal (∂loss/∂final) and the direct per-layer gradients
   * in `layerGrads`. The graph must be symmetric (Âᵀ = Â), as the normalised adjacency is.
   * `layerGrads` is consumed (used as workspace).
   */
  backward(gFinal: Float32Array, gE0: Float32Array): void {
    const g = this.layerGrads;
    const scale = 1 / (this.meanLayers + 1);
    for (let l = 0; l <= this.meanLayers; l++) {
      const gl = g[l];
      for (let k = 0; k < gl.length; k++) gl[k] += scale * gFinal[k];
    }
    let acc = g[this.depth];
    for (let l = this.depth - 1; l >= 0; l--) {
      spmm(this.graph, acc, this.dim, this.scratch);
      const gl = g[l];
      const s = this.scratch;
      for (let k = 0; k < gl.length; k++) gl[k] += s[k];
      acc = gl;
    }
    gE0.set(acc);
  }
}
