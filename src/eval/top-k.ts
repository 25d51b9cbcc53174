/** Top-K recommendation for one user from any Scorer: every item scored, seen items skipped, best first (ties: smaller id). */
import type { Scorer } from './types.js';

export interface Recommendation {
  readonly item: number;
  readonly score: number;
}

export function topK(scorer: Scorer, user: number, k: number, seen: ReadonlySet<number>): Recommendation[] {
  const items = Int32Array.from({ length: scorer.nItems }, (_, i) => i);
  const scores = new Float32Array(scorer.nItems);
  scorer.scoreItems(user, items, scores);
  const ranked: Recommendation[] = [];
  for (let i = 0; i < scorer.nItems; i++) if (!seen.has(i)) ranked.push({ item: i, score: scores[i] });
  ranked.sort((a, b) => b.score - a.score || a.item - b.item);
  return ranked.slice(0, k);
}
