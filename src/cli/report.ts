/**
 * `fedrec report RUN.json [RUN2.json …] --out report.html [--title T]`: one self-contained HTML
 * page (report/html.ts) with the runs' learning curves, bytes per round and test metrics against
 * the baselines, several runs overlaid. `fedrec train --report FILE` writes the same page for the
 * run it just finished. Every input file is checked before anything is written; the page is
 * written to a temporary file and renamed, so no half-written report is left behind.
 */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reportHtml } from '../report/html.js';
import { readResultDocument } from '../report/load.js';
import type { NamedRun } from '../report/report-data.js';
import { UsageError } from './flags.js';

export const REPORT_USAGE = `usage: fedrec report RUN.json [RUN2.json …] --out report.html [--title TEXT]

  RUN.json       a result document (fedrec train --json > RUN.json, or --out RUN.json); several are overlaid
  --out FILE     the HTML file to write (self-contained: opens offline)
  --title TEXT   the page title (default: the run's file name)
`;

/** Refuse at once an output path whose folder does not exist or that is a folder itself. */
export function checkReportPath(out: string, flag = '--out'): void {
  const dir = dirname(resolve(out));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${out}: the folder ${dirname(out)} does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`${flag} ${out}: is a folder; give a file name such as report.html`);
}

/** Write the report page of `runs` to `out` (whole or not at all). */
export function writeReport(out: string, runs: readonly NamedRun[], title?: string): void {
  const html = reportHtml(runs, { title });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write the report ${out}: ${(err as Error).message}`);
  }
}

/** Run names for the legend: file names without `.json`, the path as given when two collide. */
export function runNames(files: readonly string[]): string[] {
  const short = files.map((f) => basename(f).replace(/\.json$/i, ''));
  return short.map((s, k) => (short.indexOf(s) !== short.lastIndexOf(s) ? files[k] : s));
}

export async function reportCommand(argv: readonly string[]): Promise<number> {
  let values: { out?: string; title?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; usage: fedrec report RUN.json [RUN2.json …] --out report.html [--title TEXT]`);
  }
  if (values.help) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give at least one result JSON file: fedrec report RUN.json [RUN2.json …] --out report.html');
  if (!values.out) throw new UsageError('--out FILE is required (the HTML file to write, e.g. --out report.html)');
  checkReportPath(values.out);
  const names = runNames(positionals);
  const runs = positionals.map((file, k) => ({ name: names[k], doc: readResultDocument(file) }));
  writeReport(values.out, runs, values.title);
  process.stderr.write(`fedrec report: wrote ${values.out} (${runs.length} run${runs.length === 1 ? '' : 's'})\n`);
  return 0;
}
