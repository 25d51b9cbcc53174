/**
 * Command-line flags → raw config objects. Parsing is strict: an unknown flag is an error with a
 * "did you mean", a negative number is a value (`--rounds -1` reaches the range check), values are
 * converted by the flag's declared kind and every conversion error names the flag and what it
 * expects. `--help` / `-h` anywhere stops parsing with a `HelpRequest` carrying the other flags
 * (so `fedrec train --model ncl --help` can show NCL's defaults). Semantic validation is left to
 * the config schema. A command gets `--help` for free by parsing its argv here.
 */
import { parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';

export type FlagKind = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'numberList' | 'fractionList';

export interface FlagSpec {
  readonly key: string; // config field
  readonly kind: FlagKind;
  readonly short?: string;
  readonly help: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--help` was given: `values` are the other flags, already converted. */
export class HelpRequest extends Error {
  override name = 'HelpRequest';
  constructor(readonly specs: FlagSpecs, readonly values: Record<string, unknown>) {
    super('help requested');
  }
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "did you mean --rounds?" for a mistyped name, or '' when nothing is close. */
export function suggestion(given: string, known: readonly string[], prefix = '--'): string {
  if (known.length === 0) return '';
  const best = closest(given, [...known]);
  return distance(given, best) <= Math.max(2, Math.floor(given.length / 3)) ? `; did you mean ${prefix}${best}?` : '';
}

const HELP = new Set(['--help', '-h']);
const NUMBER = /^-(\d|\.\d)/;

/** Parse argv against `specs` (keyed by flag name without dashes). */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): Record<string, unknown> {
  const wantsHelp = argv.some((a) => HELP.has(a));
  const args = joinNegativeValues(argv.filter((a) => !HELP.has(a)), specs);
  const shorts = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([flag, s]) => [s.short as string, flag]));
  for (const arg of args) {
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0];
      if (!(name in specs)) throw new UsageError(`unknown flag --${name}${suggestion(name, Object.keys(specs))} (--help lists every flag)`);
    } else if (/^-[^-\d.]/.test(arg) && !shorts.has(arg[1])) {
      throw new UsageError(`unknown flag ${arg}${suggestion(arg.slice(1), Object.keys(specs))} (--help lists every flag)`);
    }
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [flag, spec] of Object.entries(specs)) {
    options[flag] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as Error & { code?: string }, specs));
  }
  const out: Record<string, unknown> = {};
  for (const [flag, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    const spec = specs[flag];
    out[spec.key] = convert(flag, spec.kind, raw);
  }
  if (wantsHelp) throw new HelpRequest(specs, out);
  return out;
}

/** `--rounds -1` → `--rounds=-1`: node's parser would otherwise take -1 for a flag. */
function joinNegativeValues(argv: readonly string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    const flag = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2)
      : /^-[^-]$/.test(arg) ? Object.keys(specs).find((f) => specs[f].short === arg[1]) : undefined;
    if (flag !== undefined && specs[flag] && specs[flag].kind !== 'boolean' && next !== undefined && NUMBER.test(next)) {
      out.push(`--${flag}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function parseArgsMessage(err: Error & { code?: string }, specs: FlagSpecs): string {
  const named = /'(-[^' ]+)/.exec(err.message)?.[1];
  const flag = named?.startsWith('--') ? named : named ? `--${Object.keys(specs).find((f) => specs[f].short === named.slice(1)) ?? named.slice(1)}` : undefined;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `${flag} needs a value` : `${flag} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${/'([^']*)'/.exec(err.message)?.[1] ?? ''}': every value follows its flag, e.g. --data ratings.csv`;
    default:
      return err.message.split('\n')[0];
  }
}

function convert(flag: string, kind: FlagKind, raw: string | boolean): unknown {
  if (kind === 'boolean' || typeof raw === 'boolean') return raw;
  const num = (text: string, integer: boolean, what = integer ? 'an integer' : 'a number') => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new UsageError(`--${flag}: expected ${what}, got '${raw}'`);
    }
    return v;
  };
  switch (kind) {
    case 'number':
      return num(raw, false);
    case 'integer':
      return num(raw, true);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'numberList':
      return raw.trim() === 'none' ? [] : raw.split(',').map((s) => num(s.trim(), true, 'comma-separated integers, e.g. 10,20'));
    case 'fractionList':
      return raw.split(',').map((s) => num(s.trim(), false, 'comma-separated numbers, e.g. 0.8,0.1,0.1'));
    default:
      return raw;
  }
}

const VALUE_NAME: Record<FlagKind, string> = {
  string: 'X', number: 'N', integer: 'N', boolean: '', list: 'A,B', numberList: 'N,N', fractionList: 'F,F,F',
};

/** One help line: `  --rounds N    federated rounds (default 100)`. */
export function flagLine(flag: string, spec: FlagSpec, note = ''): string {
  const name = `  ${spec.short ? `-${spec.short}, ` : ''}--${flag}${VALUE_NAME[spec.kind] ? ' ' + VALUE_NAME[spec.kind] : ''}`;
  return `${name.padEnd(30)} ${spec.help}${note ? ` ${note}` : ''}`;
}

/** Help text for a command's flags. */
export function flagHelp(specs: FlagSpecs): string {
  return Object.entries(specs).map(([flag, s]) => flagLine(flag, s)).join('\n');
}
