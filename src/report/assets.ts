/**
 * Browser scripts the report and the coordinator dashboard put into their pages, read from disk at
 * report/serve time so that a page never loads anything from the network: Chart.js (its UMD build,
 * from node_modules) and our own page scripts (compiled by tsc next to this module in dist/).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cache = new Map<string, string>();

function load(path: string, what: string): string {
  let text = cache.get(path);
  if (text === undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${what} is missing at ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): reinstall fedrec (npm ci)`);
    }
    // The page holds the script inline or serves it alone: a source map reference would point nowhere.
    text = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    cache.set(path, text);
  }
  return text;
}

/** Chart.js (UMD build: defines `window.Chart`). */
export function chartJsSource(): string {
  // the package's exports do not list the UMD file: find the package folder from its main entry
  const main = createRequire(import.meta.url).resolve('chart.js');
  return load(join(dirname(main), 'chart.umd.min.js'), 'Chart.js');
}

/** A compiled page script of this package, e.g. `report/page/report-page.js` (an ES module). */
export function pageScriptSource(relativeToDist: string): string {
  const dist = fileURLToPath(new URL('../', import.meta.url));
  return load(join(dist, relativeToDist), `the page script ${relativeToDist}`);
}

/**
 * Text safe inside an inline `<script>` element: `</script`, `<!--` and `<script` cannot end or
 * confuse the element. For JSON data blocks, escaping every `<` (as \u003c) is enough.
 */
export function inlineScriptSafe(source: string): string {
  if (/<\/script|<!--|<script/i.test(source)) throw new Error('script text contains </script, <!-- or <script: cannot be inlined');
  return source;
}

export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
