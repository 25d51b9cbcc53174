/**
 * A ratings file is streamed, never held as text (issue 22: a 25 M-line ML-25M ratings.csv). Two
 * generated MovieLens-style ratings.csv files of 0.25 M and 3 M lines over the same 200 × 500
 * (user, item) pairs are loaded by `loadDataset` in child processes whose V8 heap is capped at
 * 32 MiB: the larger file's text (≈ 64 MB) would not fit that heap, and, as every pair repeats,
 * what the builder keeps is the same for both, so the peak RSS must not grow with the file.
 * No timing is checked.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDataset } from './readers.js';

const PROBE = 'FEDREC_STREAM_PROBE';

/** The child: load the file, print its pair count and the process's peak RSS (VmHWM). */
async function probe(file: string): Promise<void> {
  const data = await loadDataset({ path: file });
  const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
  process.stdout.write(JSON.stringify({ pairs: data.interactions.users.length, users: data.nUsers, items: data.nItems, peakRssMiB: hwm }) + '\n');
}

function writeRatings(file: string, lines: number): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    bytes += writeSync(fd, 'userId,movieId,rating,timestamp\n');
    let chunk: string[] = [];
    for (let k = 0; k < lines; k++) {
      // every (user, item) of 200 × 500 repeats: the builder's columns stay at 100 000 pairs
      chunk.push(`${(k % 200) + 1},${(Math.floor(k / 200) % 500) + 1},${(k % 10) / 2 + 0.5},${1_000_000_000 + k}`);
      if (chunk.length === 50_000 || k === lines - 1) {
        bytes += writeSync(fd, chunk.join('\n') + '\n');
        chunk = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

if (process.env[PROBE]) {
  await probe(process.env[PROBE]);
} else {
  test('a ratings.csv streams: peak RSS does not grow with the file, and its text would not fit the heap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedrec-stream-'));
    try {
      const run = (lines: number) => {
        const file = join(dir, `ratings-${lines}.csv`);
        const bytes = writeRatings(file, lines);
        const out = execFileSync(process.execPath, ['--max-old-space-size=32', '--max-semi-space-size=4', fileURLToPath(import.meta.url)], { env: { ...process.env, [PROBE]: file }, encoding: 'utf8' });
        rmSync(file);
        return { bytes, ...(JSON.parse(out) as { pairs: number; users: number; items: number; peakRssMiB: number }) };
      };
      const small = run(250_000);
      const large = run(3_000_000);
      assert.deepEqual([small.pairs, small.users, small.items], [100_000, 200, 500]);
      assert.deepEqual([large.pairs, large.users, large.items], [100_000, 200, 500]);
      assert.ok(large.bytes > 55 * 2 ** 20, `the large file is ${large.bytes} bytes`);
      // text held in memory would add ≥ (large − small) bytes ≈ 56 MiB
      process.stdout.write(`# peak RSS: ${small.peakRssMiB.toFixed(0)} MiB (${small.bytes} bytes), ${large.peakRssMiB.toFixed(0)} MiB (${large.bytes} bytes)\n`);
      // (the heap cap already proves it: the child would die out of memory; what RSS may still gain is garbage not yet collected, bounded by that cap)
      const growth = large.peakRssMiB - small.peakRssMiB;
      assert.ok(growth < (0.75 * (large.bytes - small.bytes)) / 2 ** 20, `peak RSS ${small.peakRssMiB.toFixed(0)} MiB for ${small.bytes} bytes, ${large.peakRssMiB.toFixed(0)} MiB for ${large.bytes} bytes`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
