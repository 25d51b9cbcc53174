/**
 * `npm run bench [-- NAME ...]`: runs the named benchmarks (all when none is named) and prints
 * their figures. Timings live here, never in pass/fail tests.
 */
import { benchmarks } from './registry.js';

async function main(): Promise<void> {
  // `--flags` after a name are the benchmark's own (e.g. `privacy --dp`); it reads them from process.argv
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  for (const name of names.length > 0 ? names : Object.keys(benchmarks)) {
    process.stdout.write(`\n== ${name} ==\n`);
    try {
      await benchmarks[name]();
    } catch (err) {
      process.stderr.write(`benchmark ${name} failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
  }
}

void main();
