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

/**
 * Calls `onLine(text, line)` for every line; errors thrown by `onLine` propagate unchanged.
 * Line events rather than async iteration: a promise per line would dominate large files.
 * `onLine` may return false to stop reading.
 */
export async function forEachLine(
  file: string,
  encoding: TextEncoding,
  onLine: (text: string, line: number) => boolean | void,
): Promise<void> {
  await assertReadableFile(file);
  const input = createReadStream(file, { encoding });
  const reader = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let done = false;
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      reader.close();
      input.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    reader.on('line', (raw: string) => {
      if (done) return;
      line++;
      try {
        if (onLine(line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw, line) === false) finish();
      } catch (error) {
        finish(error);
      }
    });
    reader.on('close', () => finish());
    input.on('error', (error) => finish(new DataError(file, line + 1, `cannot read: ${error.message}`)));
  });
}

/** The first non-empty line of `file`, or null for an empty file. */
export async function firstLine(file: string): Promise<string | null> {
  let first: string | null = null;
  await forEachLine(file, 'utf8', (text) => {
    if (text.trim() === '') return true;
    first = text;
    return false;
  });
  return first;
}

export async function assertReadableFile(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch {
    throw new DataError(file, undefined, 'file not found');
  }
  if (!isFile) throw new DataError(file, undefined, 'expected a file, found a directory');
}
