/**
 * Output files of a command (`--out`, `--save`, `--report`, …), checked BEFORE the work starts so a
 * finished run is never lost to a missing folder: the folder is created (or the flag refused at
 * once), and the file is written whole (temp file + rename). If writing still fails at the end
 * (disk full, folder removed meanwhile), the content goes to a file in the system temp folder and
 * the message says where.
 */
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './flags.js';

/** Make `path` writable for `flag` now: create its folder, refuse a folder or an unwritable place. */
export function prepareOutput(flag: string, path: string): string {
  const full = resolve(path);
  if (path.trim() === '') throw new UsageError(`${flag}: expected a file name`);
  const kind = statOrNull(full);
  if (kind?.isDirectory()) throw new UsageError(`${flag}: ${path} is a folder; give a file name inside it`);
  const folder = dirname(full);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    const blocker = firstFileAbove(folder);
    throw new UsageError(blocker ? `${flag}: cannot create the folder ${dirname(path)}: ${blocker} is a file` : `${flag}: cannot create the folder ${dirname(path)} (${reason(err)})`);
  }
  try {
    accessSync(folder, constants.W_OK);
    if (kind) accessSync(full, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag}: cannot write ${path} (${reason(err)})`);
  }
  return full;
}

/** Outcome of `writeOutput`: where the content ended up. */
export interface Written {
  readonly path: string;
  /** Set when the requested path failed and the content went to a fallback file. */
  readonly failure?: string;
}

/** Write `content` whole to `path`; on failure, to a fallback file in the temp folder. */
export function writeOutput(path: string, content: string | Uint8Array): Written {
  try {
    writeWhole(path, content);
    return { path };
  } catch (err) {
    const fallback = join(tmpdir(), `fedrec-${process.pid}-${basename(path)}`);
    writeWhole(fallback, content);
    return { path: fallback, failure: reason(err) };
  }
}

function writeWhole(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The nearest existing ancestor of `folder` when it is a file (what blocks creating the folder). */
function firstFileAbove(folder: string): string | null {
  for (let p = folder; ; p = dirname(p)) {
    const st = statOrNull(p);
    if (st) return st.isDirectory() ? null : p;
    if (dirname(p) === p) return null;
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** A system error in a few words: "ENOTDIR: not a directory". */
export function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e.message ?? String(err);
  return e.code ? `${e.code}: ${text.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}` : text;
}
