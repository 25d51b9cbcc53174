/**
 * A client's own data, as it keeps it on the device: per user, the raw ids of the items it
 * interacted with (train), optionally ratings, held-out items and fixed evaluation negatives for
 * on-device evaluation. Mapped to the coordinator's dense item ids through the public catalogue;
 * nothing here is ever sent. Platform-neutral (the Node file reader is data-file.ts).
 */
import { z } from 'zod';
import { recencyRanks } from '../data/recency.js';
import { uniqueSorted } from '../federated/compact.js';
import type { ClientData } from '../federated/types.js';
import type { Catalogue } from '../wire/protocol.js';

const ids = z.array(z.string());

export const userRecordSchema = z
  .object({
    id: z.string(),
    train: ids,
    ratings: z.array(z.number()).optional(),
    /** When each train item was interacted with (Unix seconds), aligned with `train`. */
    times: z.array(z.number()).optional(),
    /** Or directly each train item's recency rank (0 = the latest), aligned with `train`. */
    recency: z.array(z.number().int().min(0)).optional(),
    validation: ids.default([]),
    test: ids.default([]),
    negatives: z.object({ validation: ids.default([]), test: ids.default([]) }).default({ validation: [], test: [] }),
    /** The user's own text description (text-graph: encoded on the device, never sent). */
    text: z.string().optional(),
  })
  .strict()
  .refine((u) => ['ratings', 'times', 'recency'].every((k) => !u[k as 'ratings'] || u[k as 'ratings']!.length === u.train.length), {
    message: 'ratings, times and recency must have one entry per train item',
  })
  .refine((u) => !(u.times && u.recency), { message: 'give times or recency, not both' });

export const clientDataFileSchema = z
  .object({
    format: z.literal('fedrec-client-data'),
    version: z.literal(1),
    users: z.array(userRecordSchema).min(1),
  })
  .strict();

export type UserRecord = z.input<typeof userRecordSchema>;
export type ClientDataFile = z.infer<typeof clientDataFileSchema>;

/** Held-out items and evaluation negatives of one user (dense ids). */
export interface EvalRows {
  readonly validation: Int32Array;
  readonly test: Int32Array;
  readonly negatives: { readonly validation: Int32Array; readonly test: Int32Array };
}

export interface LocalData {
  readonly data: Omit<ClientData, 'clientId'>;
  readonly evaluation: readonly EvalRows[];
  /** Raw ids of items the catalogue does not know (skipped). */
  readonly unknownItems: readonly string[];
  /** Each user's text description when the file gives one (text-graph), aligned with `data.users`. */
  readonly texts?: readonly (string | undefined)[];
}

export function parseClientDataFile(raw: unknown, source: string): ClientDataFile {
  const parsed = clientDataFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`${source}: not a fedrec client data file:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Map a client's records onto the catalogue's dense ids (train positives sorted ascending). */
export function toLocalData(records: readonly UserRecord[], catalogue: Catalogue): LocalData {
  const index = new Map(catalogue.itemIds.map((id, k) => [id, k]));
  const unknown = new Set<string>();
  const dense = (list: readonly string[] | undefined): Int32Array => {
    const out: number[] = [];
    for (const id of list ?? []) {
      const k = index.get(id);
      if (k === undefined) unknown.add(id);
      else out.push(k);
    }
    return Int32Array.from(out);
  };
  const positives: Int32Array[] = [];
  const ratings: (Float32Array | null)[] = [];
  const recency: (Int32Array | null)[] = [];
  const excluded: Int32Array[] = [];
  const evaluation: EvalRows[] = [];
  for (const u of records) {
    const order: { item: number; rating: number; at: number }[] = [];
    u.train.forEach((id, j) => {
      const k = index.get(id);
      if (k === undefined) unknown.add(id);
      else order.push({ item: k, rating: u.ratings?.[j] ?? 1, at: u.times?.[j] ?? -(u.recency?.[j] ?? 0) });
    });
    order.sort((a, b) => a.item - b.item);
    const items = Int32Array.from(order, (o) => o.item);
    positives.push(items);
    ratings.push(u.ratings ? Float32Array.from(order, (o) => o.rating) : null);
    recency.push(u.times || u.recency ? recencyRanks(items, order.map((o) => o.at)) : null);
    const rows: EvalRows = {
      validation: dense(u.validation),
      test: dense(u.test),
      negatives: { validation: dense(u.negatives?.validation), test: dense(u.negatives?.test) },
    };
    evaluation.push(rows);
    excluded.push(uniqueSorted([rows.validation, rows.test, rows.negatives.validation, rows.negatives.test]));
  }
  const users = Int32Array.from(records, (_, k) => k);
  const texts = records.some((u) => u.text !== undefined) ? records.map((u) => u.text) : undefined;
  return { data: { users, positives, ratings, recency, excluded }, evaluation, unknownItems: [...unknown], ...(texts ? { texts } : {}) };
}
