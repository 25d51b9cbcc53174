/**
 * Who masks with whom. SecAgg (Bonawitz et al., CCS 2017) pairs every client with every other;
 * SecAgg+ (Bell et al., "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020)
 * pairs each client with k neighbours of a public k-regular graph, which takes a client's cost from
 * O(n) to O(k) key agreements, shares and mask expansions. The graph here is the Harary ring over the
 * sorted ids of the clients that advertised keys: a client's neighbours are the k/2 before and the
 * k/2 after it (wrapping around); with k ≥ n − 1 (or no k) it is the complete graph.
 */

/** The neighbours of `id` among the sorted `roster` (degree `degree`, or all when null). */
export function neighboursOf(roster: readonly number[], id: number, degree: number | null): number[] {
  const at = roster.indexOf(id);
  if (at < 0) throw new Error(`client ${id} is not in the roster`);
  const m = roster.length;
  if (degree === null || degree >= m - 1) return roster.filter((v) => v !== id);
  const half = Math.floor(degree / 2);
  const out = new Set<number>();
  for (let d = 1; d <= half; d++) {
    out.add(roster[(at + d) % m]);
    out.add(roster[(at - d + m) % m]);
  }
  return [...out].sort((a, b) => a - b);
}

/** Shamir threshold: at least 2 and ⌈fraction · (neighbourhood size incl. oneself)⌉. */
export function shareThreshold(fraction: number, planned: number, degree: number | null): number {
  const group = degree === null ? planned : Math.min(planned, degree + 1);
  return Math.max(2, Math.ceil(fraction * group - 1e-9));
}
