/**
 * Streams a text file line by line (readline over a read stream, so large files never sit in one
 * string), with 1-based line numbers, a stripped UTF-8 byte-order mark and CRLF handled.
 * A missing or unreadable file becomes a DataError.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DataError } from './errors.js';

export type TextEncoding = 'utf8' | 'latin1';

export interface NumberedLine {
  readonly text: string;
  /** 1-based. */
  readonly line: number;
}

export async function* readLines(file: string, encoding: TextEncoding = 'utf8'): AsyncGenerator<NumberedLine> {
  await assertReadableFile(file);
  const input = createReadStream(file, { encoding });
  const reader = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of reader) {
      line++;
      yield { text: line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw, line };
    }
  } catch (error) {
    throw new DataError(file, line + 1, `cannot read: ${(error as Error).message}`);
  } finally {
    reader.close();
    input.destroy();
  }
}

/** The first non-empty line of `file`, or null for an empty file. */
export async function firstLine(file: string): Promise<string | null> {
  for await (const { text } of readLines(file)) if (text.trim() !== '') return text;
  return null;
}

async function assertReadableFile(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch {
    throw new DataError(file, undefined, 'file not found');
  }
  if (!isFile) throw new DataError(file, undefined, 'expected a file, found a directory');
}
