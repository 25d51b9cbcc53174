/**
 * `fedrec train --config run.json|run.yaml`: a run configuration file (the fields of the run config,
 * named as in the result JSON: `rounds`, `localEpochs`, …), or a result JSON itself, whose `config`
 * is taken as is so a run can be repeated exactly. Fields a result records but a run does not read
 * (the encoder's id and width) are dropped. YAML is read by the `yaml` package.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../data/errors.js';
import type { ConfigFile } from './train-config.js';

/** Recorded in a result document's config, not settings of a run. */
const RECORDED_ONLY = ['encoderId', 'textDim', 'selectedRound'];

export function readRunConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(path, undefined, e.code === 'ENOENT' ? 'no such config file' : `cannot read the config file (${e.code ?? e.message})`);
  }
  let doc: unknown;
  try {
    doc = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const what = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? 'YAML' : 'JSON';
    throw new DataError(path, lineOf(err, text), `not valid ${what}: ${(err as Error).message.split('\n')[0].replace(/ in JSON at position \d+.*$/, '')}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new DataError(path, undefined, 'expected an object of run settings, e.g. { "model": "mf", "rounds": 50 }');
  }
  const isResult = 'config' in doc && 'metrics' in doc;
  const values = { ...((isResult ? (doc as { config: unknown }).config : doc) as Record<string, unknown>) };
  for (const key of RECORDED_ONLY) delete values[key];
  return { path, values };
}

/** The line of a YAML error (yaml's linePos) or of a JSON one (V8's "at position N"). */
function lineOf(err: unknown, text = ''): number | undefined {
  const linePos = (err as { linePos?: { line: number }[] }).linePos;
  if (linePos?.[0]) return linePos[0].line;
  const at = /at position (\d+)/.exec((err as Error).message);
  return at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
}
