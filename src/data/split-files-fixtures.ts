/** Test fixtures of split files: NCF files written from a split (He et al., WWW 2017 format). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowOf } from './user-items.js';
import type { Dataset, ImplicitSplit } from './types.js';

/** Writes the NCF files of a leave-one-out split with 0-based ids (as published with He et al. 2017). */
export function writeNcf(dir: string, name: string, ds: Dataset, split: ImplicitSplit): void {
  const { ratings, timestamps } = ds.interactions;
  const at = new Map<number, number>();
  for (let k = 0; k < ds.interactions.users.length; k++) at.set(ds.interactions.users[k] * ds.nItems + ds.interactions.items[k], k);
  const rating = (u: number, i: number) => `${u}\t${i}\t${ratings![at.get(u * ds.nItems + i)!]}\t${timestamps![at.get(u * ds.nItems + i)!]}\n`;
  let train = '';
  let testRating = '';
  let negative = '';
  for (let u = 0; u < split.nUsers; u++) {
    for (const i of [...rowOf(split.train, u), ...rowOf(split.validation, u)].sort((a, b) => a - b)) train += rating(u, i);
    for (const i of rowOf(split.test, u)) {
      testRating += rating(u, i);
      negative += `(${u},${i})\t${Array.from(rowOf(split.negatives.test, u)).join('\t')}\n`;
    }
  }
  writeFileSync(join(dir, `${name}.train.rating`), train);
  writeFileSync(join(dir, `${name}.test.rating`), testRating);
  writeFileSync(join(dir, `${name}.test.negative`), negative);
}

