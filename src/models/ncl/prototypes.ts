/**
 * NCL's E-step (Lin et al., WWW 2022): k-means over layer-0 embeddings gives each node a
 * prototype (its cluster's L2-normalised centroid). Re-run every epoch (central) or every round
 * on the server's item table (federated).
 */
import { kmeans } from '../../cluster/kmeans.js';

export interface Prototypes {
  /** Normalised centroids: [k, dim]. */
  readonly centroids: Float32Array;
  /** Cluster of each row: [rows]. */
  readonly assignment: Int32Array;
}

export interface PrototypeOptions {
  readonly clusters: number;
  readonly iterations: number;
  readonly seed: number;
}

/** Prototypes of the rows of `embeddings` [rows, dim]; k is capped at the number of rows. */
export function computePrototypes(embeddings: Float32Array, dim: number, opts: PrototypeOptions): Prototypes {
  const rows = embeddings.length / dim;
  const { centroids, assignment } = kmeans(embeddings, dim, {
    k: Math.min(opts.clusters, rows),
    iterations: opts.iterations,
    seed: opts.seed,
    normalizeCentroids: true,
  });
  return { centroids, assignment };
}
