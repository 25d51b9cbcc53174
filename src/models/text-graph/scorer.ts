/**
 * Scoring with personalised item tables, for evaluation in simulation (a deployed client scores on
 * its own device): user u's item rows are R_u = θ + Δ_u (its personal rows) and θ elsewhere, for the
 * candidates and for the recent items e_u reads (the recent-items term); e_u comes from the user's
 * own joint layer. Implements the evaluation `Scorer`.
 */
import type { Scorer } from '../../eval/types.js';
import { personalRowOf, type PersonalRows } from './personal-rows.js';
import type { TextGraphModel } from './model.js';

export class PersonalisedScorer implements Scorer {
  private rows: Float32Array = new Float32Array(0);
  private recent: Float32Array = new Float32Array(0);

  /**
   * @param model the model over every user, whose 'item' table is θ [nItems, d].
   * @param personal user u's personal rows, or null (R_u = θ).
   */
  constructor(
    private readonly model: TextGraphModel,
    private readonly personal: (u: number) => PersonalRows | null,
  ) {}

  get nItems(): number {
    return this.model.nItems;
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    const p = this.personal(user);
    if (!p) return this.model.scoreItems(user, items, out);
    this.rows = this.personalised(p, items, this.rows);
    const recentItems = this.model.recentRowsOf(user);
    this.recent = this.personalised(p, recentItems, this.recent);
    this.model.scoreVectors(user, this.rows, items.length, out, recentItems.length > 0 ? this.recent : undefined);
  }

  /** Rows θ[i] + Δ_u[i] of `items` (Δ_u zero off the personal rows) into `buffer`, grown when too small. */
  private personalised(p: PersonalRows, items: Int32Array, buffer: Float32Array): Float32Array {
    const d = this.model.config.dim;
    const out = buffer.length < items.length * d ? new Float32Array(items.length * d) : buffer;
    const theta = this.model.params.global.item;
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      const at = personalRowOf(p, i);
      for (let f = 0; f < d; f++) out[k * d + f] = theta[i * d + f] + (at >= 0 ? p.delta[at * d + f] : 0);
    }
    return out;
  }
}
