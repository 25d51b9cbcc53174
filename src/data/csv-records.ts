/**
 * General CSV/TSV records by a library (csv-parse, RFC 4180): quoted fields, separators and quotes
 * inside quotes ("Toy Story, The"), fields spanning lines, a UTF-8 byte-order mark. Streams the file,
 * so large files never sit in one string; every parse error becomes a DataError naming the line.
 * MovieLens's fixed formats keep the faster line splitter (data/delimited.ts).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { DataError } from './errors.js';
import { assertReadableFile } from './lines.js';

const options = (sep: string) => ({
  delimiter: sep,
  bom: true,
  trim: true,
  skip_empty_lines: true,
  relax_column_count: true, // the caller names the expected field count in its own error
  info: true,
}) as const;

/** Calls `onRecord(fields, line)` for every record of `file` (line: where the record ends, 1-based). */
export async function forEachCsvRecord(file: string, sep: string, onRecord: (fields: string[], line: number) => void): Promise<void> {
  await assertReadableFile(file);
  const parser = createReadStream(file).pipe(parse(options(sep)));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      onRecord(record, info.lines);
    }
  } catch (err) {
    throw asDataError(file, err);
  } finally {
    parser.destroy();
  }
}

/** The fields of one line (e.g. a header), quotes handled as in the file. */
export function csvFields(file: string, text: string, sep: string): string[] {
  try {
    const rows = parseSync(text, { ...options(sep), info: false }) as string[][];
    return rows[0] ?? [];
  } catch (err) {
    throw asDataError(file, err);
  }
}

function asDataError(file: string, err: unknown): unknown {
  if (err instanceof DataError) return err;
  const e = err as { code?: string; message?: string; lines?: number };
  if (typeof e.code !== 'string' || !e.code.startsWith('CSV_')) return err;
  const problem = (e.message ?? '').replace(/^(Invalid|Quote Not Closed)[^:]*: /, '').replace(/ at line \d+.*$/, '');
  return new DataError(file, e.lines, `malformed CSV: ${problem}`);
}
