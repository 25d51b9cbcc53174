/**
 * Command-line flags → raw config objects. Parsing is strict (unknown flags are errors that list
 * the allowed ones); values are converted by the flag's declared kind, and every conversion error
 * names the flag and what it expects. Semantic validation is left to the config schema.
 */
import { parseArgs } from 'node:util';

export type FlagKind = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'numberList' | 'fractionList';

export interface FlagSpec {
  readonly key: string; // config field
  readonly kind: FlagKind;
  readonly short?: string;
  readonly help: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parse argv against `specs` (keyed by flag name without dashes). */
export function parseFlags(argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>): Record<string, unknown> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [flag, spec] of Object.entries(specs)) {
    options[flag] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    const allowed = Object.keys(specs).map((f) => `--${f}`).join(' ');
    throw new UsageError(`${(err as Error).message}\nallowed flags: ${allowed}`);
  }
  const out: Record<string, unknown> = {};
  for (const [flag, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    const spec = specs[flag];
    out[spec.key] = convert(flag, spec.kind, raw);
  }
  return out;
}

function convert(flag: string, kind: FlagKind, raw: string | boolean): unknown {
  if (kind === 'boolean' || typeof raw === 'boolean') return raw;
  const num = (text: string, integer: boolean) => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new UsageError(`--${flag}: expected ${integer ? 'an integer' : 'a number'}, got '${text}'`);
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
      return raw.trim() === 'none' ? [] : raw.split(',').map((s) => num(s.trim(), true));
    case 'fractionList':
      return raw.split(',').map((s) => num(s.trim(), false));
    default:
      return raw;
  }
}

/** Help text for a command's flags. */
export function flagHelp(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs)
    .map(([flag, s]) => `  --${flag}${s.kind === 'boolean' ? '' : ' ' + s.kind.toUpperCase()}`.padEnd(34) + s.help)
    .join('\n');
}
