/**
 * Reading result documents (report/result.ts) back from files for `fedrec report`: a missing file,
 * text that is not JSON (or is cut short) and JSON that is not a result document are each refused
 * with a DataError naming the file and, for a wrong shape, the first field that is wrong.
 * Fields this reader does not know are kept (newer runs may carry more).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DataError } from '../data/errors.js';
import type { ResultDocument } from './result.js';

// JSON turns NaN and ±Infinity into null: a metric or a loss may be null in a valid document.
const value = z.number().nullable();
const metricMap = z.record(z.string(), value);
const splitMetrics = z.looseObject({ sampled: metricMap.optional(), full: metricMap.optional(), explicit: metricMap.optional() });

const resultSchema = z.looseObject({
  dataset: z.looseObject({ name: z.string(), users: z.number(), items: z.number(), interactions: z.number(), split: z.string() }),
  config: z.record(z.string(), z.unknown()),
  metrics: z.looseObject({ test: splitMetrics, validation: splitMetrics }),
  baselines: z.record(z.string(), z.looseObject({ test: splitMetrics.optional(), validation: splitMetrics.optional() })),
  history: z.array(
    z.looseObject({
      round: z.number().int().min(0),
      loss: value,
      seconds: z.number(),
      bytesUp: z.number(),
      bytesDown: z.number(),
      clients: z.number().optional(),
      validation: splitMetrics,
    }),
  ),
  timing: z.looseObject({ totalSeconds: z.number(), secondsPerRound: z.number() }),
});

/** Check that `raw` is a result document; `file` names it in the error. */
export function parseResultDocument(raw: unknown, file: string): ResultDocument {
  const parsed = resultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length === 0 ? 'the top level' : issue.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k > 0 ? '.' : ''}${String(p)}`)).join('');
    throw new DataError(file, undefined, `not a fedrec result document (${where}: ${issue.message}); expected the JSON of fedrec train --json or --out`);
  }
  return parsed.data as unknown as ResultDocument;
}

/** Read and check one result document file. */
export function readResultDocument(file: string): ResultDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new DataError(file, undefined, `cannot read the result document: ${why}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const cut = text.trim().length === 0 ? 'the file is empty' : (err as Error).message;
    throw new DataError(file, undefined, `not valid JSON (${cut}); is the file complete?`);
  }
  return parseResultDocument(raw, file);
}
