/**
 * MF scoring with personalised item tables (Koren et al. 2009's s = p_u·q_i + b_u + b_i + g, under
 * graph aggregation: GPFedRec, Zhang et al., KDD 2024): user u's item rows are R_u = θ + Δ_u on its
 * personal rows and θ elsewhere, θ rows being [q_i, b_i] (d + 1 wide). Implements the evaluation
 * `Scorer`, for the simulation (every user) and a device (its own users).
 */
import type { Scorer } from '../../eval/types.js';
import { personalRowOf, type PersonalRows } from '../text-graph/personal-rows.js';

export class PersonalisedMfScorer implements Scorer {
  /**
   * @param item θ [nItems, d + 1] (factors then bias).
   * @param userEmb p [users, d] and userBias b_u [users]: the users this scorer serves, by index.
   * @param personal user u's personal rows (width d + 1), or null (R_u = θ).
   */
  constructor(
    private readonly dim: number,
    readonly nItems: number,
    private readonly item: Float32Array,
    private readonly globalBias: number,
    private readonly userEmb: Float32Array,
    private readonly userBias: Float32Array,
    private readonly personal: (u: number) => PersonalRows | null,
  ) {
    if (item.length !== nItems * (dim + 1)) throw new Error(`personalised MF: item table has ${item.length} values, expected ${nItems}×${dim + 1}`);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    const d = this.dim;
    const w = d + 1;
    const p = this.personal(user);
    const uo = user * d;
    const base = this.userBias[user] + this.globalBias;
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      const at = p ? personalRowOf(p, i) : -1;
      let s = 0;
      if (at >= 0) {
        const delta = p!.delta;
        // R_u's row as the device holds it: float32 sums
        for (let f = 0; f < d; f++) s += this.userEmb[uo + f] * Math.fround(this.item[i * w + f] + delta[at * w + f]);
        out[k] = s + base + Math.fround(this.item[i * w + d] + delta[at * w + d]);
      } else {
        for (let f = 0; f < d; f++) s += this.userEmb[uo + f] * this.item[i * w + f];
        out[k] = s + base + this.item[i * w + d];
      }
    }
  }
}
