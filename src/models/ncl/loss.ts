/**
 * NCL's contrastive terms (Lin et al., WWW 2022, as in RecBole-GNN's `NCL.calculate_loss`) for a
 * minibatch, added to LightGCN's BPR loss:
 *   structural  ssl_reg · Σ_batch [ InfoNCE(ẑ_u^(2k), ê_u^(0) | all users)
 *                                 + α · InfoNCE(ẑ_i^(2k), ê_i^(0) | all items) ]   (i = positives)
 *   prototype   proto_reg · Σ_batch [ InfoNCE(ê_u^(0), c_u | user centroids)
 *                                 + InfoNCE(ê_i^(0), c_i | item centroids) ]
 * Sums run over batch entries (repeats included), temperature τ = ssl_temp for both. "All
 * users / all items" means every user / item node of the graph the trainer works on: the whole
 * graph centrally, the client's ego-graph (its items and sampled negatives) in the federated
 * variant, where the user-side terms are switched off (other users never reach a client).
 */
import type { BprBatch } from '../lightgcn/bpr.js';
import type { GraphBatchLoss } from '../lightgcn/fit.js';
import type { Propagation } from '../lightgcn/propagation.js';
import { infoNce } from './info-nce.js';
import type { Prototypes } from './prototypes.js';

export interface NclLossOptions {
  /** k: the structural contrast uses layer 2k (RecBole `hyper_layers`, default 1). */
  readonly hyperLayers: number;
  readonly sslTemp: number;
  readonly sslReg: number;
  /** Weight of the item structural term (RecBole `alpha`). */
  readonly alpha: number;
  readonly protoReg: number;
  /** Include the user-side terms (false in the federated variant). */
  readonly userSide: boolean;
}

export class NclLoss implements GraphBatchLoss {
  /** Prototypes used by the prototype term; null switches it off (warm-up, or none computed yet). */
  userPrototypes: Prototypes | null = null;
  itemPrototypes: Prototypes | null = null;
  private readonly userMarks: Marks;
  private readonly itemMarks: Marks;
  private stamp = 0;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly dim: number,
    readonly options: NclLossOptions,
  ) {
    if (!Number.isInteger(options.hyperLayers) || options.hyperLayers < 1) throw new RangeError(`NCL: hyperLayers must be a positive integer, got ${options.hyperLayers}`);
    this.userMarks = marks(nUsers);
    this.itemMarks = marks(nItems);
  }

  addBatch(batch: BprBatch, prop: Propagation): number {
    const { nUsers, dim, options } = this;
    const context = 2 * options.hyperLayers;
    if (prop.depth < context) throw new RangeError(`NCL: propagation depth ${prop.depth} < 2·hyperLayers = ${context}`);
    const userSpan = nUsers * dim;
    const layer0 = prop.layers[0];
    const g0 = prop.layerGrads[0];
    let loss = 0;
    const groups: { nodes: Int32Array; offset: number; structural: number; protos: Prototypes | null; marks: Marks }[] = [
      { nodes: batch.positives, offset: nUsers, structural: options.sslReg * options.alpha, protos: this.itemPrototypes, marks: this.itemMarks },
    ];
    if (options.userSide) groups.unshift({ nodes: batch.users, offset: 0, structural: options.sslReg, protos: this.userPrototypes, marks: this.userMarks });
    for (const group of groups) {
      const { ids, counts } = this.distinct(group.nodes, batch.start, batch.end, group.offset, group.marks);
      const lo = group.offset === 0 ? 0 : userSpan;
      const hi = group.offset === 0 ? userSpan : layer0.length;
      if (group.structural > 0) {
        const anchors = gather(prop.layers[context], ids, group.offset, dim);
        const gAnchors = new Float32Array(anchors.length);
        loss += infoNce(
          { dim, anchors, targets: layer0.subarray(lo, hi), normalizeTargets: true, positive: ids, weight: scaled(counts, group.structural), temperature: options.sslTemp },
          { anchors: gAnchors, targets: g0.subarray(lo, hi) },
        );
        scatterAdd(gAnchors, ids, group.offset, dim, prop.layerGrads[context]);
      }
      if (group.protos && options.protoReg > 0) {
        const anchors = gather(layer0, ids, group.offset, dim);
        const gAnchors = new Float32Array(anchors.length);
        const positive = Int32Array.from(ids, (id) => group.protos!.assignment[id]);
        loss += infoNce(
          { dim, anchors, targets: group.protos.centroids, normalizeTargets: false, positive, weight: scaled(counts, options.protoReg), temperature: options.sslTemp },
          { anchors: gAnchors, targets: null },
        );
        scatterAdd(gAnchors, ids, group.offset, dim, g0);
      }
    }
    return loss;
  }

  /** Distinct ids (node − offset) of nodes[start..end) with their multiplicities. */
  private distinct(nodes: Int32Array, start: number, end: number, offset: number, marks: Marks): { ids: Int32Array; counts: Float32Array } {
    const tag = this.stamp++;
    const ids: number[] = [];
    const counts: number[] = [];
    for (let b = start; b < end; b++) {
      const id = nodes[b] - offset;
      if (marks.stamp[id] !== tag) {
        marks.stamp[id] = tag;
        marks.slot[id] = ids.length;
        ids.push(id);
        counts.push(0);
      }
      counts[marks.slot[id]]++;
    }
    return { ids: Int32Array.from(ids), counts: Float32Array.from(counts) };
  }
}

/** Per-id scratch for deduplicating a batch: the batch tag that last saw the id, and its slot. */
interface Marks {
  readonly stamp: Int32Array;
  readonly slot: Int32Array;
}

function marks(n: number): Marks {
  return { stamp: new Int32Array(n).fill(-1), slot: new Int32Array(n) };
}

function scaled(counts: Float32Array, factor: number): Float32Array {
  return counts.map((c) => c * factor);
}

/** Rows (offset + ids[k]) of table [*, dim] into a new [ids.length, dim]. */
function gather(table: Float32Array, ids: Int32Array, offset: number, dim: number): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let k = 0; k < ids.length; k++) out.set(table.subarray((offset + ids[k]) * dim, (offset + ids[k] + 1) * dim), k * dim);
  return out;
}

function scatterAdd(rows: Float32Array, ids: Int32Array, offset: number, dim: number, table: Float32Array): void {
  for (let k = 0; k < ids.length; k++) {
    const to = (offset + ids[k]) * dim;
    for (let f = 0; f < dim; f++) table[to + f] += rows[k * dim + f];
  }
}
