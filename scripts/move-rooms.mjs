#!/usr/bin/env node
/**
 * Splits src/runtime/ into rooms by what each file holds (issue 16, item 6; docs/architecture.md):
 *   src/config/      the run configuration: schema and defaults, field scopes, the data/model a config names
 *   src/simulation/  the engines a run drives: federated rounds (in-process, worker threads), central epochs, selection
 *   src/recipes/     the run recipes: one end-to-end run per kind of model/algorithm, and `run.ts` that picks one
 *   src/federated/   + the partition of a data set into clients (also what `fedrec partition` writes per device)
 *   src/report/      + the history entries and status lines a run reports
 *   src/models/      + the model file on disk
 * `git mv` each file of the table (tests move with their module), then rewrites every relative
 * import specifier under src/ (from '…', import('…'), new URL('…', import.meta.url)) so it points
 * at the moved file, and every prose reference `runtime/<name>` in comments, docs and README.
 *
 * Re-runnable: a table entry whose source is gone is skipped with a message (already moved, or
 * deleted by other work); files in src/runtime/ that the table does not name stay and are listed.
 * Usage (from the repository root, clean work tree):
 *   node scripts/move-rooms.mjs [--dry-run] [src/runtime/x.ts=src/simulation/x.ts …]
 * (extra OLD=NEW pairs add to the table, e.g. for a file other work created in src/runtime/),
 * then `rm -rf dist && npx tsc -p tsconfig.json && node --test dist/architecture.test.js`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';

/** old path → new path, relative to the repository root. */
const MOVES = [
  // configuration
  ['src/runtime/config.ts', 'src/config/config.ts'],
  ['src/runtime/config-scope.ts', 'src/config/config-scope.ts'],
  ['src/runtime/configured-data.ts', 'src/config/configured-data.ts'],
  ['src/runtime/config-derived.ts', 'src/config/config-derived.ts'], // issue 16 `registry` work, if merged
  ['src/runtime/graph-defaults.ts', 'src/config/graph-defaults.ts'],
  ['src/runtime/graph-settings.ts', 'src/config/graph-settings.ts'],
  ['src/runtime/ials-defaults.ts', 'src/config/ials-defaults.ts'],
  ['src/runtime/text-graph-defaults.ts', 'src/config/text-graph-defaults.ts'],
  ['src/runtime/text-graph-defaults.test.ts', 'src/config/text-graph-defaults.test.ts'],
  ['src/runtime/protocol.test.ts', 'src/config/protocol.test.ts'],
  // simulation: the engines
  ['src/runtime/simulation.ts', 'src/simulation/simulation.ts'],
  ['src/runtime/parallel-simulation.ts', 'src/simulation/parallel-simulation.ts'],
  ['src/runtime/simulation-worker.ts', 'src/simulation/simulation-worker.ts'],
  ['src/runtime/central.ts', 'src/simulation/central.ts'],
  ['src/runtime/selection.ts', 'src/simulation/selection.ts'],
  ['src/runtime/round-engine.ts', 'src/simulation/round-engine.ts'], // issue 16 `engine` work, if merged
  ['src/runtime/epoch-engine.ts', 'src/simulation/epoch-engine.ts'], // idem
  ['src/runtime/engine.test.ts', 'src/simulation/engine.test.ts'],
  // run recipes
  ['src/runtime/run.ts', 'src/recipes/run.ts'],
  ['src/runtime/result-builder.ts', 'src/recipes/result-builder.ts'], // issue 16 `engine` work, if merged
  ['src/runtime/experiment.ts', 'src/recipes/experiment.ts'],
  ['src/runtime/fedrecon-experiment.ts', 'src/recipes/fedrecon-experiment.ts'],
  ['src/runtime/fedrecon-experiment.test.ts', 'src/recipes/fedrecon-experiment.test.ts'],
  ['src/runtime/text-graph-experiment.ts', 'src/recipes/text-graph-experiment.ts'],
  ['src/runtime/text-graph-experiment.test.ts', 'src/recipes/text-graph-experiment.test.ts'],
  ['src/runtime/graph-experiment.ts', 'src/recipes/graph-experiment.ts'],
  ['src/runtime/graph-experiment.test.ts', 'src/recipes/graph-experiment.test.ts'],
  ['src/runtime/graph-central.ts', 'src/recipes/graph-central.ts'],
  ['src/runtime/graph-federated.ts', 'src/recipes/graph-federated.ts'],
  ['src/runtime/ials-experiment.ts', 'src/recipes/ials-experiment.ts'],
  ['src/runtime/ials-experiment.test.ts', 'src/recipes/ials-experiment.test.ts'],
  ['src/runtime/label-shuffle.test.ts', 'src/recipes/label-shuffle.test.ts'],
  ['src/runtime/row-order.test.ts', 'src/recipes/row-order.test.ts'],
  // lower rooms
  ['src/runtime/clients.ts', 'src/federated/partition.ts'],
  ['src/runtime/fedrecon-data.ts', 'src/federated/fedrecon-data.ts'],
  ['src/runtime/types.ts', 'src/report/history.ts'],
  ['src/runtime/status.ts', 'src/report/status.ts'],
  ['src/runtime/model-file.ts', 'src/models/model-file.ts'],
];

/** Prose the per-file renames cannot reach (a folder as a whole, a wildcard, a line break). */
const PROSE_EDITS = [
  [/^\| `runtime\/` \|.*$/m, [
    '| `config/` | run config schema (zod) with per-model/algorithm defaults and field scopes; the data set, split and model a config names | `parseTrainConfig`, `recordedConfig`, `loadConfiguredSplit`, `splitDataset` |',
    '| `simulation/` | in-process and worker-thread federated simulation, central trainer, validation-based model selection | `FederatedSimulation`, `ParallelSimulation`, `trainCentral`, `BestCheckpoint` |',
    '| `recipes/` | one run end to end per kind (MF/NeuMF/iALS/graph models, FedRecon, text-graph); `run.ts` picks one | `runTraining`, `runFedReconTraining`, `runTextGraphTraining`, `runConfiguredTraining` |',
  ].join('\n')],
  [/runtime\/graph-\*\.ts/g, 'recipes/graph-*.ts, config/graph-*.ts'],
  [/runtime\/(\n\s*\*\s*)text-graph-experiment/g, 'recipes/$1text-graph-experiment'],
];

/** Where prose references (comments, docs) are rewritten besides src/. */
const PROSE = ['README.md', 'docs', 'bench', 'bin', 'scripts', '.ci', 'package.json'];

const dryRun = process.argv.includes('--dry-run');
for (const arg of process.argv.slice(2).filter((a) => a !== '--dry-run')) {
  const pair = arg.split('=');
  if (pair.length !== 2 || !pair[0].endsWith('.ts') || !pair[1].endsWith('.ts')) {
    process.stderr.write(`move-rooms: expected OLD=NEW (two .ts paths from the repository root), got '${arg}'\n`);
    process.exit(2);
  }
  MOVES.push(pair);
}
const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
process.chdir(root);
const say = (line) => process.stdout.write(`${line}\n`);

if (!dryRun && execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '') {
  process.stderr.write('move-rooms: the work tree has uncommitted changes; commit or stash them first\n');
  process.exit(2);
}

function filesUnder(dir, test) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, test));
    else if (test(p)) out.push(p);
  }
  return out;
}

// 1. Which moves apply.
const moves = new Map(); // old → new, absolute
for (const [from, to] of MOVES) {
  const [a, b] = [resolve(from), resolve(to)];
  if (existsSync(a) && existsSync(b)) say(`skip ${from}: ${to} exists too (resolve by hand)`);
  else if (existsSync(a)) moves.set(a, b);
  else if (existsSync(b)) say(`skip ${from}: already at ${to}`);
  else say(`skip ${from}: not in this checkout`);
}

// 2. Rewrite imports. Contents are read before any move; each file's specifiers are resolved
// from its old place and re-expressed from its new place.
const SPECIFIER = /((?:\bfrom|\bimport)\s*\(?\s*|new URL\(\s*)(['"])(\.\.?\/[^'"\n]+?\.js)\2/g;
const newPathOf = (p) => moves.get(p) ?? p;
const sources = filesUnder(resolve('src'), (p) => /\.(ts|mts)$/.test(p));
const sourceSet = new Set(sources);
const rewritten = new Map(); // new path → new text
for (const file of sources) {
  const text = readFileSync(file, 'utf8');
  const here = newPathOf(file);
  const next = text.replace(SPECIFIER, (whole, lead, quote, spec) => {
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!sourceSet.has(target)) return whole; // a built asset or a non-source file: left alone
    let rel = relative(dirname(here), newPathOf(target)).split('\\').join('/').replace(/\.ts$/, '.js');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${lead}${quote}${rel}${quote}`;
  });
  if (next !== text || here !== file) rewritten.set(here, next);
}

// 3. Prose references: `runtime/<name>` (with or without src/, dist/, .ts, .js) → the new room.
const renames = [...moves].map(([a, b]) => {
  const from = posix.normalize(relative(resolve('src'), a).split('\\').join('/')).replace(/\.ts$/, '');
  const to = posix.normalize(relative(resolve('src'), b).split('\\').join('/')).replace(/\.ts$/, '');
  return { pattern: new RegExp(`(?<![\\w-])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'), to };
});
function renameProse(text) {
  let out = text;
  for (const { pattern, to } of renames) out = out.replace(pattern, to);
  if (renames.length > 0) for (const [pattern, to] of PROSE_EDITS) out = out.replace(pattern, to);
  return out;
}
for (const [file, text] of rewritten) rewritten.set(file, renameProse(text));
for (const file of sources) {
  const here = newPathOf(file);
  if (rewritten.has(here)) continue;
  const text = readFileSync(file, 'utf8');
  const next = renameProse(text);
  if (next !== text) rewritten.set(here, next);
}
const proseFiles = PROSE.flatMap((p) => (existsSync(p) && statSync(p).isDirectory()
  ? filesUnder(resolve(p), (f) => /\.(md|mjs|js|json|ts)$/.test(f) || !/\.\w+$/.test(f))
  : existsSync(p) ? [resolve(p)] : []));
const proseEdits = new Map();
for (const file of proseFiles) {
  if (file === resolve('scripts/move-rooms.mjs')) continue; // the table itself names the old paths
  const text = readFileSync(file, 'utf8');
  const next = renameProse(text);
  if (next !== text) proseEdits.set(file, next);
}

// 4. Apply.
for (const [a, b] of moves) {
  say(`move ${relative(root, a)} → ${relative(root, b)}`);
  if (!dryRun) {
    mkdirSync(dirname(b), { recursive: true });
    execFileSync('git', ['mv', a, b]);
  }
}
const edited = [...rewritten.keys(), ...proseEdits.keys()];
if (!dryRun) {
  for (const [file, text] of rewritten) writeFileSync(file, text);
  for (const [file, text] of proseEdits) writeFileSync(file, text);
}
say(`${dryRun ? 'would rewrite' : 'rewrote'} imports or references in ${edited.length} files`);

// 5. What stays in src/runtime/, and stale build output.
const left = filesUnder(resolve('src/runtime'), () => true).filter((p) => !moves.has(p));
if (left.length === 0) {
  if (!dryRun && existsSync('src/runtime')) rmSync('src/runtime', { recursive: true, force: true });
  say('src/runtime/ is empty and removed');
} else {
  say(`${left.length} files stay in src/runtime/ (not in the table; add a line to MOVES and run again):`);
  for (const p of left) say(`  ${relative(root, p)}`);
}
if (!dryRun && existsSync('dist/runtime')) {
  rmSync('dist/runtime', { recursive: true, force: true });
  say('removed dist/runtime/ (stale compiled files would otherwise still run under node --test dist/)');
}
say(dryRun ? 'dry run: nothing changed' : 'next: rm -rf dist && npx tsc -p tsconfig.json && node --test dist/architecture.test.js');
