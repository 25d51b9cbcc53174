/**
 * Builds the browser bundle of the client (the demo page's script) with esbuild from the compiled
 * `browser.js` next to this file — the same modules the Node client runs. `npm run build:browser`
 * calls this; the coordinator also builds it on first start when it is missing.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

export const BROWSER_ENTRY = fileURLToPath(new URL('./browser.js', import.meta.url));

/**
 * The Node modules the shared WebAssembly kernels import for their helper threads (math/wasm/heap.ts,
 * pool.ts). The algorithms whose client work needs them declare `capabilities.tab: false` and a tab
 * refuses their rounds (client/works.ts), so in the bundle they resolve to stand-ins: one thread,
 * and a Worker that refuses to start.
 */
const NODE_STAND_INS: Readonly<Record<string, string>> = {
  'node:os': 'export const availableParallelism = () => 1;',
  'node:worker_threads': "export const isMainThread = true; export class Worker { constructor() { throw new Error('worker threads do not run in a browser tab'); } }",
};

const nodeStandIns: Plugin = {
  name: 'node-stand-ins',
  setup(build) {
    build.onResolve({ filter: /^node:(os|worker_threads)$/ }, (args) => ({ path: args.path, namespace: 'node-stand-in' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stand-in' }, (args) => ({ contents: NODE_STAND_INS[args.path], loader: 'js' }));
  },
};

export async function buildBrowserBundle(outFile: string): Promise<void> {
  const esbuild = await import('esbuild');
  mkdirSync(dirname(outFile), { recursive: true });
  await esbuild.build({
    entryPoints: [BROWSER_ENTRY],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
    plugins: [nodeStandIns],
  });
}

/** Where the coordinator serves the bundle from unless its config names another file. */
export const DEFAULT_BUNDLE = fileURLToPath(new URL('./bundle/fedrec-client.js', import.meta.url));

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  await buildBrowserBundle(process.argv[2] ?? DEFAULT_BUNDLE);
  process.stdout.write(`browser bundle written to ${process.argv[2] ?? DEFAULT_BUNDLE}\n`);
}
