#!/usr/bin/env node
// Same seed → same result JSON before and after a refactor of the training loops.
// Runs short `fedrec train` configs with one checkout's bin/fedrec.js and writes each result
// (timings removed) to OUT/<name>.json; `--compare A B` diffs two such folders.
//   node scripts/compare-results.mjs run <checkout> <out-dir> [name…]
//   node scripts/compare-results.mjs compare <dir-a> <dir-b>
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DATA = process.env.FEDREC_DATA ?? '/work/shared/data/ml-100k';
const base = ['--data', DATA, '--seed', '7', '--eval-every', '2'];
const fed = [...base, '--rounds', '3', '--clients-per-round', '60'];
const tg = [...base, '--model', 'text-graph', '--encoder', 'hash', '--cache-dir', '/tmp/engine-cmp-cache'];

export const CONFIGS = {
  'mf-fedavg': fed,
  'mf-fedavg-workers2': [...fed, '--workers', '2'],
  'mf-fedavg-all-clients': [...base, '--rounds', '2'],
  'mf-fedavg-dp': [...base, '--rounds', '3', '--fraction', '0.06', '--dp-clip', '0.5', '--dp-noise-multiplier', '1'],
  'mf-fedavg-q8-select-last': [...fed, '--download', 'q8', '--select', 'last'],
  'neumf-fedavg': [...fed, '--model', 'neumf'],
  'fedprox': [...fed, '--algorithm', 'fedprox', '--prox-mu', '0.1'],
  'fedrecon-implicit': [...fed, '--algorithm', 'fedrecon'],
  'fedrecon-explicit': [...fed, '--algorithm', 'fedrecon', '--feedback', 'explicit'],
  'ials-federated': [...fed, '--algorithm', 'ials', '--model', 'ials'],
  'ials-central': [...base, '--model', 'ials', '--mode', 'central', '--epochs', '3'],
  'mf-central': [...base, '--mode', 'central', '--epochs', '3'],
  'neumf-central': [...base, '--mode', 'central', '--model', 'neumf', '--epochs', '2'],
  'lightgcn-central': [...base, '--mode', 'central', '--model', 'lightgcn', '--epochs', '3'],
  'ncl-central': [...base, '--mode', 'central', '--model', 'ncl', '--epochs', '3', '--warm-up', '1'],
  'lightgcn-federated': [...fed, '--model', 'lightgcn'],
  'ncl-federated': [...fed, '--model', 'ncl', '--warm-up', '1'],
  'lightgcn-federated-dp': [...base, '--rounds', '3', '--fraction', '0.06', '--model', 'lightgcn', '--dp-clip', '0.5', '--dp-noise-multiplier', '1'],
  'text-graph-graph': [...tg, '--algorithm', 'graph', '--rounds', '3', '--clients-per-round', '60'],
  'text-graph-fedavg': [...tg, '--algorithm', 'fedavg', '--rounds', '3', '--clients-per-round', '60'],
  'text-graph-central': [...tg, '--mode', 'central', '--epochs', '2'],
  'mf-graph': [...fed, '--algorithm', 'graph'],
};

/** The document without wall-clock fields: `timing` and each history entry's `seconds`. */
function stripTimings(doc) {
  const { timing, ...rest } = doc;
  return { ...rest, history: doc.history.map(({ seconds, ...h }) => h) };
}

function run(checkout, out, names) {
  mkdirSync(out, { recursive: true });
  for (const name of names.length ? names : Object.keys(CONFIGS)) {
    const args = CONFIGS[name];
    const started = Date.now();
    let text;
    try {
      text = execFileSync('node', [join(checkout, 'bin/fedrec.js'), 'train', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      console.log(`${name}: FAILED ${String(err.stderr).trim().split('\n').at(-1)}`);
      continue;
    }
    writeFileSync(join(out, `${name}.json`), JSON.stringify(stripTimings(JSON.parse(text)), null, 1));
    console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

function compare(a, b) {
  let bad = 0;
  for (const file of readdirSync(a).filter((f) => f.endsWith('.json')).sort()) {
    let other;
    try { other = readFileSync(join(b, file), 'utf8'); } catch { console.log(`${file}: missing in ${b}`); bad++; continue; }
    const same = readFileSync(join(a, file), 'utf8') === other;
    if (!same) bad++;
    console.log(`${file.replace(/\.json$/, '')}: ${same ? 'identical' : 'DIFFERENT'}`);
  }
  return bad;
}

const [cmd, x, y, ...rest] = process.argv.slice(2);
if (cmd === 'run') run(x, y, rest);
else if (cmd === 'compare') process.exitCode = compare(x, y) ? 1 : 0;
else { console.error('usage: compare-results.mjs run <checkout> <out> [name…] | compare <dir-a> <dir-b>'); process.exitCode = 2; }
