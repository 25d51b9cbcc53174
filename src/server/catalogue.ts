/**
 * The item catalogue the coordinator publishes: dense item ids → raw ids and titles, and the most
 * popular items (offered first for rating on the demo page). Built from the configured data set;
 * only item-level facts leave this module, never an interaction.
 */
import type { Dataset } from '../data/types.js';
import type { Catalogue } from '../wire/protocol.js';

export function catalogueOf(ds: Dataset, featuredCount = 40): Catalogue {
  const counts = new Int32Array(ds.nItems);
  for (const i of ds.interactions.items) counts[i]++;
  const byPopularity = Array.from({ length: ds.nItems }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  return {
    nItems: ds.nItems,
    itemIds: [...ds.itemIds],
    titles: ds.itemIds.map((id) => ds.side.items?.get(id)?.title ?? `item ${id}`),
    featured: byPopularity.slice(0, featuredCount),
  };
}
