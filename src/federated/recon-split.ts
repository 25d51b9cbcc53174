/**
 * The dataset split function of Federated Reconstruction (Singhal et al., NeurIPS 2021; TFF's
 * `dataset_split_fn`): given how many examples a user holds, in the order the client holds them,
 * which positions feed the reconstruction phase (local parameters) and which the
 * post-reconstruction phase (global parameters). It is injectable: training takes any
 * `ReconSplitFn`; evaluation goes through `disjointSplit`, which rejects overlapping parts, so an
 * evaluation can never score the examples a user was reconstructed from.
 *   alternateSplit  even positions → reconstruction, odd → post-reconstruction (the default)
 *   reuseAllSplit   every position in both parts (training only: for users with little data)
 */

/** Positions (0-based, into the user's examples) of each phase. */
export interface ReconSplit {
  readonly reconstruction: Int32Array;
  readonly postReconstruction: Int32Array;
}

export type ReconSplitFn = (count: number) => ReconSplit;

export const alternateSplit: ReconSplitFn = (count) => ({
  reconstruction: Int32Array.from({ length: Math.ceil(count / 2) }, (_, k) => 2 * k),
  postReconstruction: Int32Array.from({ length: Math.floor(count / 2) }, (_, k) => 2 * k + 1),
});

export const reuseAllSplit: ReconSplitFn = (count) => {
  const all = Int32Array.from({ length: count }, (_, k) => k);
  return { reconstruction: all, postReconstruction: all.slice() };
};

/** Split functions by the name the configuration uses (`--recon-split`). */
export const RECON_SPLITS = { alternate: alternateSplit, reuse: reuseAllSplit } as const;
export type ReconSplitName = keyof typeof RECON_SPLITS;

/** `fn(count)`, checked to be in range and disjoint — the only way evaluation splits a user's data. */
export function disjointSplit(fn: ReconSplitFn, count: number): ReconSplit {
  const split = fn(count);
  const owner = new Uint8Array(count);
  for (const [mark, positions] of [[1, split.reconstruction], [2, split.postReconstruction]] as const) {
    for (const p of positions) {
      if (!Number.isInteger(p) || p < 0 || p >= count) throw new RangeError(`split position ${p} outside [0, ${count})`);
      if (owner[p] !== 0 && owner[p] !== mark) {
        throw new Error(`evaluation needs disjoint reconstruction and evaluation data, but position ${p} is in both`);
      }
      owner[p] = mark;
    }
  }
  return split;
}
