/**
 * Hand-built splits for the evaluation tests (not part of the public API): compressed rows from
 * plain arrays, and a seeded leave-one-out split with 99 evaluation negatives per user in the
 * shape of EVALUATION.md.
 */
import type { ImplicitSplit, UserItems } from '../data/types.js';
import { Rng } from '../math/rng.js';

/** Compressed rows from one item list per user (sorted ascending, values null). */
export function userItems(rows: number[][]): UserItems {
  const indptr = new Int32Array(rows.length + 1);
  rows.forEach((items, u) => (indptr[u + 1] = indptr[u] + items.length));
  const indices = Int32Array.from(rows.flatMap((items) => [...items].sort((a, b) => a - b)));
  return { indptr, indices, values: null };
}

export interface HandSplitRows {
  nItems: number;
  train: number[][];
  validation: number[][];
  test: number[][];
  validationNegatives: number[][];
  testNegatives: number[][];
}

export function handSplit(rows: HandSplitRows): ImplicitSplit {
  return {
    method: 'leave-one-out-random', // not read by evaluation
    seed: 0,
    nUsers: rows.train.length,
    nItems: rows.nItems,
    train: userItems(rows.train),
    validation: userItems(rows.validation),
    test: userItems(rows.test),
    negatives: { validation: userItems(rows.validationNegatives), test: userItems(rows.testNegatives) },
  };
}

/**
 * Per user: `trainPerUser` train items, 1 validation item, 1 test item, and `nNegatives` evaluation
 * negatives per part drawn from the items the user never interacted with.
 */
export function syntheticSplit(nUsers: number, nItems: number, trainPerUser: number, seed: number, nNegatives = 99): ImplicitSplit {
  const rng = new Rng(seed);
  const train: number[][] = [];
  const validation: number[][] = [];
  const test: number[][] = [];
  const validationNegatives: number[][] = [];
  const testNegatives: number[][] = [];
  for (let u = 0; u < nUsers; u++) {
    const used = new Set<number>();
    const draw = (): number => {
      let item: number;
      do item = rng.int(nItems);
      while (used.has(item));
      used.add(item);
      return item;
    };
    train.push(Array.from({ length: trainPerUser }, draw));
    validation.push([draw()]);
    test.push([draw()]);
    validationNegatives.push(Array.from({ length: nNegatives }, draw));
    testNegatives.push(Array.from({ length: nNegatives }, draw));
  }
  return handSplit({ nItems, train, validation, test, validationNegatives, testNegatives });
}
