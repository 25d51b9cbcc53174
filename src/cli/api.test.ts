/**
 * The programmatic API: the README's TypeScript example compiles against the package's own types
 * (resolved through package.json `exports`, as an installed `fedrec` is) and runs; `import('fedrec')`
 * works; the packed package ships what `exports` points at. Offline: a self-reference import from
 * inside the package, and `npm pack --dry-run` for the file list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test("the README's TypeScript example compiles and runs against 'fedrec'", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it from TypeScript'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'README has a ```ts example under "Use it from TypeScript"');
  // Inside the package folder, so 'fedrec' resolves to this package through its exports.
  const dir = mkdtempSync(join(root, '.readme-example-'));
  try {
    writeFileSync(join(dir, 'example.ts'), code);
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node', '--rootDir', dir, '--outDir', dir, join(dir, 'example.ts')], { encoding: 'utf8', cwd: root });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const run = spawnSync(process.execPath, [join(dir, 'example.js')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /100 users, \d+ items; split leave-one-out/);
    assert.match(run.stdout, new RegExp(`fedrec ${pkg.version.replace(/\./g, '\\.')}: test HR@10 0\\.\\d{4} at round [123]`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("import('fedrec') loads the API", () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    "const m = await import('fedrec'); " +
    "console.log(typeof m.train, typeof m.loadDataset, typeof m.startCoordinator, typeof m.joinAndTrain, m.FEDREC_VERSION);"], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `function function function function ${pkg.version}`);
});

test('package.json exports point at built files that npm pack ships', () => {
  assert.equal(pkg.exports['.'].default, './dist/index.js');
  assert.equal(pkg.exports['.'].types, './dist/index.d.ts');
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path));
  for (const f of ['package.json', 'bin/fedrec.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) assert.ok(files.has(f), f);
});
