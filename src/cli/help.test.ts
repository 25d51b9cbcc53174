/**
 * Help and version: `--help` for every command exits 0; `fedrec train --help` shows, for the chosen
 * model/algorithm/mode, the defaults a run with those choices records in its result JSON (a real
 * run each, compared flag by flag); flags that do not apply are refused; every config field has a
 * scope (config-scope.ts), so help, refusal and the recorded config cannot miss one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainConfigSchema } from '../config/config.js';
import { FIELD_SCOPES } from '../config/config-scope.js';
import { TRAIN_FLAGS } from './train.js';
import { showDefault } from './train-help.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = resolve(root, 'bin/fedrec.js');

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('every command answers --help with exit 0; fedrec --version prints the package version', () => {
  for (const command of ['train', 'recommend', 'serve', 'join', 'partition', 'token']) {
    const r = fedrec([command, '--help']);
    assert.equal(r.status, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: fedrec ${command}`), command);
    assert.match(r.stdout, /--\w/, `${command} lists its flags`);
  }
  assert.equal(fedrec(['token', 'create', '-h']).status, 0);
  assert.equal(fedrec(['--help']).status, 0);
  const version = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).version;
  const v = fedrec(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout, `fedrec ${version}\n`);
});

/** flag → default as help prints it. */
function helpDefaults(choices: string[]): Map<string, string> {
  const r = fedrec(['train', ...choices, '--help']);
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+(?:-\w, )?--([\w-]+)\b.*\(default ([^)]*)\)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

const tiny = ['--synthetic-users', '50', '--synthetic-items', '400', '--synthetic-interactions', '1500', '--k', '10', '--eval', 'sampled', '--quiet', '--json'];

const RUNS: { choices: string[]; budget: string[] }[] = [
  { choices: [], budget: ['--rounds', '1'] },
  { choices: ['--mode', 'central'], budget: ['--epochs', '1'] },
  { choices: ['--model', 'lightgcn', '--mode', 'central'], budget: ['--epochs', '1'] },
  { choices: ['--algorithm', 'fedrecon', '--feedback', 'implicit'], budget: ['--rounds', '1'] },
  { choices: ['--model', 'text-graph', '--encoder', 'hash'], budget: ['--rounds', '1'] },
  // the model registry's option schemas (NCL's, iALS's) and an algorithm's own (FedProx's μ)
  { choices: ['--model', 'ncl', '--mode', 'central'], budget: ['--epochs', '1'] },
  { choices: ['--model', 'ials', '--mode', 'central'], budget: ['--epochs', '1'] },
  { choices: ['--algorithm', 'fedprox'], budget: ['--rounds', '1'] },
  // graph aggregation with an MF client (its own defaults, graph options and λ)
  { choices: ['--model', 'mf', '--algorithm', 'graph'], budget: ['--rounds', '1'] },
];

test('train --help shows the defaults a run with the same choices records in its result JSON', () => {
  for (const { choices, budget } of RUNS) {
    const shown = helpDefaults(choices);
    const r = fedrec(['train', ...choices, ...tiny, ...budget]);
    assert.equal(r.status, 0, `${choices.join(' ')}: ${r.stderr}`);
    const recorded = JSON.parse(r.stdout).config as Record<string, unknown>;
    const given = new Set([...choices, ...tiny, ...budget].filter((a) => a.startsWith('--')).map((a) => a.slice(2)));
    let compared = 0;
    for (const [flag, spec] of Object.entries(TRAIN_FLAGS)) {
      if (given.has(flag) || !(spec.key in trainConfigSchema.shape)) continue;
      assert.equal(shown.get(flag), showDefault(recorded[spec.key]), `${choices.join(' ') || 'default run'}: --${flag}`);
      compared++;
    }
    assert.ok(compared > 15, `${compared} flags compared`);
  }
});

test('a flag that does not apply to the chosen model/algorithm/mode is refused', () => {
  const cases: [string[], RegExp][] = [
    [['--ssl-temp', '0.2'], /--ssl-temp applies to model ncl; this run is model mf, algorithm fedavg, mode federated/],
    [['--mode', 'central', '--rounds', '5'], /--rounds applies to mode federated; this run is model mf, mode central/],
    [['--recon-lr', '0.1'], /--recon-lr applies to algorithm fedrecon/],
    [['--model', 'ncl', '--loss', 'bpr'], /--loss applies to model mf or neumf/],
    [['--model', 'ncl', '--ssl-reg', '1e-6'], /--ssl-reg applies to model ncl with mode central; this run is model ncl, algorithm fedavg, mode federated/],
    [['--data', 'x.csv', '--synthetic-users', '5'], /--synthetic-users applies to the built-in synthetic data/],
    [['--neighbors', '5'], /--neighbors applies to model text-graph or mf with algorithm graph/],
    [['--model', 'mf', '--algorithm', 'graph', '--dp-laplace', '0.1'], /--dp-laplace applies to model text-graph with algorithm graph/],
    [['--lambda', '0.5'], /--lambda applies to model text-graph, or model mf with algorithm graph with mode federated/],
  ];
  for (const [args, pattern] of cases) {
    const r = fedrec(['train', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, pattern);
  }
});

test('every config field has a scope and every train flag sets a config field or an output', () => {
  for (const key of Object.keys(trainConfigSchema.shape)) {
    assert.ok(key in FIELD_SCOPES, `config field ${key} has no entry in FIELD_SCOPES (src/config/config-scope.ts)`);
  }
});
