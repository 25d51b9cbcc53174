/**
 * The rooms of src/ and the direction of their arrows (docs/architecture.md, issue 16 item 6).
 * Reads every .ts file under src/, resolves its relative imports (static, dynamic and type-only)
 * and checks them against the room table: a module imports only rooms below its own, with the few
 * exceptions listed (each with its reason); tests (*.test.ts) may reach up, since they compare
 * layers (deployed = simulated). The named rules are checked on their own, with no exception.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Each room's level: a module imports only rooms of a lower level (same level: only its own room, but see SIBLINGS). */
const LEVEL: Readonly<Record<string, number>> = {
  math: 0, version: 0,
  data: 1, cluster: 1,
  eval: 2, text: 2,
  models: 3, optim: 3, train: 3,
  federated: 4,
  privacy: 5, wire: 5,
  secagg: 6, report: 6,
  algorithms: 7,
  config: 8,
  simulation: 9,
  client: 10,
  server: 11,
  recipes: 12,
  cli: 13, bench: 13, index: 13,
};

/** Rooms of one level that share types both ways: parameters, their optimisers and the fit loop. */
const SIBLINGS = [['models', 'optim'], ['models', 'train'], ['optim', 'train']];

/** Upward arrows that remain, room → room (or file → file), with the reason. Anything else upward fails. */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  'algorithms → config': 'the run config is composed from the algorithm registry; algorithms read that config (TrainConfig, ConfigError, optimiser helpers)',
  'privacy → config': 'privacy/dp-config.ts reads TrainConfig; secure-dp.ts raises ConfigError',
  'federated → privacy': 'federated/types.ts names PrivacyReport (a type) in a strategy result',
  'algorithms → server': 'graph.ts names the PersonalisingStrategy type of server/strategies.ts and raises its InvalidUpdate (server/validate.ts)',
  'algorithms → cli': 'algorithms/types.ts names the flag spec type of cli/flags.ts',
};

interface Arrow { readonly from: string; readonly to: string; readonly fromRoom: string; readonly toRoom: string; readonly test: boolean }

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The room of a file: its first folder under src/, or its own name for a file directly in src/. */
function roomOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*(['"])(\.\.?\/[^'"\n]+?\.js)\1/g;

function arrows(): Arrow[] {
  const out: Arrow[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), m[2]).replace(/\.js$/, '.ts');
      if (!existsSync(target)) continue; // a built asset, not a source module
      const [fromRoom, toRoom] = [roomOf(file), roomOf(target)];
      if (fromRoom !== toRoom) out.push({ from: relative(SRC, file), to: relative(SRC, target), fromRoom, toRoom, test: file.endsWith('.test.ts') });
    }
  }
  return out;
}

const ARROWS = arrows();
const show = (a: Arrow) => `src/${a.from} → src/${a.to}`;

test('architecture: every file under src/ is in a room of the table', () => {
  const rooms = new Set(sourceFiles(SRC).map(roomOf));
  const unknown = [...rooms].filter((r) => !(r in LEVEL) && r !== 'architecture.test');
  assert.deepEqual(unknown, [], `rooms missing from the table in src/architecture.test.ts: ${unknown.join(', ')}` +
    (unknown.includes('runtime') ? ' (src/runtime/ is split by scripts/move-rooms.mjs: add the file to its MOVES table and run it)' : ''));
});

test('architecture: models import nothing from federated', () => {
  assert.deepEqual(ARROWS.filter((a) => a.fromRoom === 'models' && a.toRoom === 'federated').map(show), []);
});

test('architecture: no client ↔ server circle (the client never imports the server)', () => {
  assert.deepEqual(ARROWS.filter((a) => a.fromRoom === 'client' && a.toRoom === 'server').map(show), []);
});

test('architecture: server, report and client modules never import run recipes', () => {
  const bad = ARROWS.filter((a) => !a.test && ['server', 'report', 'client'].includes(a.fromRoom) && a.toRoom === 'recipes');
  assert.deepEqual(bad.map(show), []);
});

test('architecture: modules import only lower rooms, or a listed exception', (t) => {
  const sibling = (a: string, b: string) => SIBLINGS.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  const upward = ARROWS.filter((a) => !a.test && LEVEL[a.toRoom] >= LEVEL[a.fromRoom] && !sibling(a.fromRoom, a.toRoom));
  const excepted = (a: Arrow) => [`${a.fromRoom} → ${a.toRoom}`, `${a.from} → ${a.to}`].filter((k) => k in EXCEPTIONS);
  const bad = upward.filter((a) => excepted(a).length === 0);
  assert.deepEqual(bad.map(show), [], 'upward imports: move the shared piece down, or (with a reason) list the pair in EXCEPTIONS');
  const used = new Set(upward.flatMap(excepted));
  for (const pair of Object.keys(EXCEPTIONS)) if (!used.has(pair)) t.diagnostic(`exception '${pair}' no longer occurs: remove it from EXCEPTIONS`);
});
