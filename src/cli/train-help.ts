/**
 * `fedrec train [--model X] [--algorithm Y] [--mode Z] --help`, generated from the config schema:
 * each flag's default is the value a run with those choices records in its result JSON
 * (`recordedConfig(parseTrainConfig(choices))`, the same function the result builders call), so
 * help cannot drift from what runs. Flags are grouped; with a model/algorithm/mode chosen, only the
 * flags that apply are listed.
 */
import { parseTrainConfig } from '../config/config.js';
import { groupOf, recordedConfig, scopeOf } from '../config/config-scope.js';
import { asFlag } from './config-errors.js';
import { ALGORITHMS } from '../algorithms/registry.js';
import { flagLine, type FlagSpec, type FlagSpecs } from './flags.js';
import { CHOICE_KEYS, describeShape, NEGATED_FLAGS, runShape, SCHEMA_KEYS } from './train-config.js';

const BASE_TITLES: Readonly<Record<string, string>> = {
  data: 'Data',
  model: 'Model',
  training: 'Training',
  federated: 'Federated training',
  evaluation: 'Evaluation',
  'lightgcn/ncl': 'LightGCN / NCL',
  'text-graph': 'Text-aware graph aggregation (model text-graph)',
  fedrecon: 'Federated Reconstruction (algorithm fedrecon)',
  ials: 'Implicit ALS (model ials)',
  privacy: 'User-level differential privacy (DP-FedAvg)',
  other: 'Other settings',
  output: 'Output',
};

/** The groups in help order: an algorithm's own fields (src/algorithms/registry.ts) before 'other' and 'output'. */
const GROUP_TITLES: Readonly<Record<string, string>> = (() => {
  const { other, output, ...rest } = BASE_TITLES;
  const algorithms = ALGORITHMS.filter((a) => !(a.name in rest)).map((a) => [a.name, `${a.summary} (${a.paper}; algorithm ${a.name})`]);
  return { ...rest, ...Object.fromEntries(algorithms), other, output };
})();

/** The config field a flag sets, for scope and default ('--no-self-loop' sets selfLoop). */
function fieldOf(spec: FlagSpec): string {
  return NEGATED_FLAGS[spec.key] ?? spec.key;
}

/** A config value as help shows it (and as the help test reads it back). */
export function showDefault(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

/** Effective defaults for the choices among `given`, keyed by config field. */
export function effectiveDefaults(given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return recordedConfig(parseTrainConfig(runShape(given, asFlag)));
}

export function trainHelp(specs: FlagSpecs, given: Readonly<Record<string, unknown>>): string {
  const shape = runShape(given, asFlag);
  const defaults = recordedConfig(parseTrainConfig(shape));
  const chosen = CHOICE_KEYS.some((k) => k !== 'data' && given[k] !== undefined);
  const groups = new Map<string, string[]>();
  let hidden = 0;
  for (const [flag, spec] of Object.entries(specs)) {
    const field = fieldOf(spec);
    const isConfig = SCHEMA_KEYS.includes(field);
    const applies = !isConfig || scopeOf(field).applies(shape);
    if (!applies && chosen) {
      hidden++;
      continue;
    }
    const shown = spec.key in NEGATED_FLAGS ? undefined : showDefault(defaults[field]);
    const note = !applies ? `[${scopeOf(field).says}]` : shown !== undefined ? `(default ${shown})` : '';
    const group = isConfig ? groupOf(field) ?? 'other' : 'output';
    groups.set(group, [...(groups.get(group) ?? []), flagLine(flag, spec, note)]);
  }
  const order = Object.keys(GROUP_TITLES);
  const sections = [...groups.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([group, lines]) => `${GROUP_TITLES[group] ?? group}:\n${lines.join('\n')}`);
  const head = `usage: fedrec train [flags]    train (federated or centralised) and evaluate\n\n` +
    `Defaults below are those of ${describeShape(shape)}${chosen ? '' : ' (the default run)'}; ` +
    `they change with the model, algorithm and mode: fedrec train --model ncl --mode central --help.`;
  const foot = hidden > 0 ? `\n\n${hidden} flags of other models/algorithms/modes are hidden; fedrec train --help lists all.` : '';
  return `${head}\n\n${sections.join('\n\n')}${foot}\n`;
}
