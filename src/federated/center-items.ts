/**
 * Centering of the server's item-row update (issue 19): for a dot-product MF scorer
 * (s_ui = u·v_i + b_i + b), adding one vector c to every item row v_i (and one constant to every
 * bias b_i) changes every score of user u by u·c, the same for all items — no ranking changes. So
 * the across-item mean of the averaged item update carries no ranking information, and the server
 * subtracts it (per column, over the round's touched rows) before its optimiser steps. Honest
 * learning keeps everything that can reorder items; an attacker's consistent push shared by all
 * rows ("+1 on every row", Baruch et al., NeurIPS 2019 "A Little Is Enough": a small push inside
 * the honest spread) is removed instead of being turned by the server's Adam into lr-sized steps.
 * It runs on the round's aggregate, so it works under secure aggregation too. Not for NeuMF (its
 * MLP is not shift-invariant): off there.
 */
import type { Grads } from '../models/types.js';

/** Subtract, in place, each listed item table's per-column mean over its touched rows. */
export function centerItemRows(grads: Grads, tables: readonly string[]): void {
  for (const name of tables) {
    const g = grads.values[name];
    const rows = grads.touchedRows(name);
    if (!g || rows.length === 0) continue;
    const w = grads.width(name);
    const mean = new Float64Array(w);
    for (const r of rows) for (let f = 0; f < w; f++) mean[f] += g[r * w + f];
    for (let f = 0; f < w; f++) mean[f] /= rows.length;
    for (const r of rows) for (let f = 0; f < w; f++) g[r * w + f] -= mean[f];
  }
}
