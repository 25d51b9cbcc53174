/**
 * The config schema's findings in the user's words: `--k: must be greater than 0, got 0` rather
 * than `k.0: Too small`. A field is named as the user gave it: a flag (`--rounds`) or a key of the
 * config file (`rounds in run.yaml`). All findings fit on one line.
 */
import type { ConfigError } from '../config/config.js';
import { kebab, suggestion } from './flags.js';

/** How to name a config field to the user. */
export type FieldNamer = (key: string) => string;

export const asFlag: FieldNamer = (key) => `--${kebab(key)}`;

interface Issue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly origin?: string;
  readonly values?: readonly unknown[];
  readonly expected?: string;
  readonly keys?: readonly string[];
}

export function describeConfigError(err: ConfigError, name: FieldNamer, knownKeys: readonly string[] = []): string {
  const issues = err.issues as readonly Issue[];
  if (issues.length === 0) return err.message;
  return issues.map((i) => describeIssue(i, name, knownKeys)).join('; ');
}

function describeIssue(i: Issue, name: FieldNamer, knownKeys: readonly string[]): string {
  const field = i.path.length > 0 ? name(String(i.path[0])) : 'configuration';
  const got = i.input === undefined ? '' : `, got ${show(i.input)}`;
  switch (i.code) {
    case 'too_small':
      return i.origin === 'array'
        ? `${field}: needs at least ${i.minimum} value${i.minimum === 1 ? '' : 's'}${got}`
        : `${field}: must be ${i.inclusive ? 'at least' : 'greater than'} ${i.minimum}${got}`;
    case 'too_big':
      return i.origin === 'array'
        ? `${field}: takes at most ${i.maximum} value${i.maximum === 1 ? '' : 's'}${got}`
        : `${field}: must be ${i.inclusive ? 'at most' : 'less than'} ${i.maximum}${got}`;
    case 'invalid_value': {
      const allowed = (i.values ?? []).map(String);
      const hint = typeof i.input === 'string' ? suggestion(i.input, allowed, '') : '';
      return `${field}: expected one of ${allowed.join(', ')}${got}${hint}`;
    }
    case 'invalid_format':
      return `${field}: ${i.message}${got}`;
    case 'invalid_type':
      return `${field}: expected ${i.expected === 'array' ? 'a list' : `a ${i.expected}`}${got}`;
    case 'unrecognized_keys':
      return (i.keys ?? []).map((k) => `unknown field ${name(k)}${suggestion(k, knownKeys, '')}`).join('; ');
    default:
      return `${field}: ${inUserWords(i.message, name)}`;
  }
}

/** camelCase field names inside a schema message → the user's names for them. */
function inUserWords(message: string, name: FieldNamer): string {
  return message.replace(/\b[a-z]+[A-Z][A-Za-z]*\b/g, (key) => name(key)).replace(/\bor fraction\b/, `or ${name('fraction')}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}
