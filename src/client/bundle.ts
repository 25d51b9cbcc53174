/**
 * Builds the browser bundle of the client (the demo page's script) with esbuild from the compiled
 * `browser.js` next to this file — the same modules the Node client runs. `npm run build:browser`
 * calls this; the coordinator also builds it on first start when it is missing.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BROWSER_ENTRY = fileURLToPath(new URL('./browser.js', import.meta.url));

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
  });
}

/** Where the coordinator serves the bundle from unless its config names another file. */
export const DEFAULT_BUNDLE = fileURLToPath(new URL('./bundle/fedrec-client.js', import.meta.url));

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  await buildBrowserBundle(process.argv[2] ?? DEFAULT_BUNDLE);
  process.stdout.write(`browser bundle written to ${process.argv[2] ?? DEFAULT_BUNDLE}\n`);
}
