/**
 * From what the user gave (flags, and optionally a `--config` file that flags override) to a
 * validated TrainConfig, with every refusal in the user's words: a field is named as it was given
 * (`--rounds`, or `rounds in run.yaml`), and a field that does not apply to the chosen
 * model/algorithm/mode is refused (`--ssl-temp applies to model ncl; this run is model mf, …`).
 */
import { basename } from 'node:path';
import { ConfigError, parseTrainConfig, trainConfigSchema, type TrainConfig } from '../config/config.js';
import { scopeOf, type RunShape } from '../config/config-scope.js';
import { describeConfigError, type FieldNamer } from './config-errors.js';
import { kebab, UsageError } from './flags.js';

/** The fields that decide which other fields apply (config-scope.ts). */
export const CHOICE_KEYS = ['model', 'algorithm', 'mode', 'feedback', 'data', 'encoder'] as const;

export const SCHEMA_KEYS: readonly string[] = Object.keys(trainConfigSchema.shape);

export interface ConfigFile {
  readonly path: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Presence flags that switch a default-on field off: flag key → the config field they set to false. */
export const NEGATED_FLAGS: Readonly<Record<string, string>> = { noSelfLoop: 'selfLoop', noCenterItems: 'centerItems' };

/** Parsed flags with each negating flag ('--no-self-loop') turned into its field set to false; unset ones dropped. */
export function withNegations(flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    const field = NEGATED_FLAGS[key];
    if (field === undefined) out[key] = value;
    else if (value === true) out[field] = false;
  }
  return out;
}

/** The negating flag that set `field` to `value`, if one did. */
function negatingFlag(field: string, value: unknown): string | undefined {
  return value === false ? Object.keys(NEGATED_FLAGS).find((flag) => NEGATED_FLAGS[flag] === field) : undefined;
}

/** Validate flags (over an optional config file) into a run config. */
export function resolveTrainConfig(flags: Readonly<Record<string, unknown>>, file?: ConfigFile): TrainConfig {
  const name: FieldNamer = (key) => (key in flags || !file ? `--${kebab(negatingFlag(key, flags[key]) ?? key)}` : `${key} in ${basename(file.path)}`);
  const merged: Record<string, unknown> = { ...(file?.values ?? {}), ...flags };
  const shape = runShape(merged, name);
  const choicesOverridden = CHOICE_KEYS.some((k) => k in flags && file && k in file.values && flags[k] !== file.values[k]);
  for (const key of Object.keys(merged)) {
    const scope = scopeOf(key);
    if (scope.applies(shape)) continue;
    // A config file written for another model/mode keeps its other fields; flags that changed the
    // choice drop them. A field given directly that the run would ignore is an error.
    if (!(key in flags) && choicesOverridden) {
      delete merged[key];
      continue;
    }
    throw new UsageError(`${name(key)} applies to ${scope.says}; this run is ${describeShape(shape)}`);
  }
  return parseOrExplain(merged, name);
}

/** The model / algorithm / mode a set of options selects (schema defaults filled in). */
export function runShape(given: Readonly<Record<string, unknown>>, name: FieldNamer): RunShape {
  const choices = Object.fromEntries(CHOICE_KEYS.filter((k) => given[k] !== undefined).map((k) => [k, given[k]]));
  return parseOrExplain(choices, name);
}

export function describeShape(c: RunShape): string {
  return c.mode === 'central' ? `model ${c.model}, mode central` : `model ${c.model}, algorithm ${c.algorithm}, mode federated`;
}

function parseOrExplain(raw: Record<string, unknown>, name: FieldNamer): TrainConfig {
  try {
    return parseTrainConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(describeConfigError(err, name, SCHEMA_KEYS));
    throw err;
  }
}
