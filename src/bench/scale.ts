/**
 * Scale benchmark (`npm run bench -- scale`, issue 22 item 6):
 *  1. a federated FedAvg MF round (default MF settings of `bench -- engine`: dim 32, 1 local epoch,
 *     batch 32, 4 negatives, recency off) over every client of an ML-10M-shaped synthetic set
 *     (69 878 users, 10 677 items, 10 M interactions) on 2 workers: seconds per round (after a
 *     first round that warms the JIT) and the process's peak RSS (workers are threads: included).
 *     Target ≤ 20 s per round, ≤ 4 GiB.
 *  2. streaming a 25 M-line ratings.csv (ML-25M's shape: 162 541 users, 59 047 items), generated
 *     into a temp file here (never in tests): seconds to load and the loader's peak RSS, measured in
 *     a child process of its own; the text (≈ 0.7 GB) is never held whole (forEachLine streams).
 * FEDREC_BENCH_SCALE=round or =stream runs one part. The machine is shared: figures are indicative.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../math/rng.js';
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { peakRssMiB } from './util.js';

const TARGET_SECONDS = 20;
const TARGET_RSS_MIB = 4096;

async function ml10mRound(): Promise<void> {
  const started = performance.now();
  const run = await runTraining(parseTrainConfig({
    mode: 'federated', model: 'mf', dim: 32, localEpochs: 1, batch: 32, negatives: 4, optimizer: 'sgd', lr: 1, recencyWindow: 0,
    syntheticUsers: 69_878, syntheticItems: 10_677, syntheticInteractions: 10_000_054, workers: 2,
    rounds: 2, evalEvery: 1000, eval: ['sampled'], k: [10], select: 'last',
  }));
  const total = (performance.now() - started) / 1000;
  const h = run.result.history;
  const round = h[h.length - 1].seconds;
  const rss = peakRssMiB();
  process.stdout.write(
    `FedAvg MF round, all 69 878 ML-10M-shaped clients (10 M interactions), 2 workers: ${round.toFixed(1)} s (target ≤ ${TARGET_SECONDS} s; first round ${h[0].seconds.toFixed(1)} s); ` +
      `peak RSS ${rss.toFixed(0)} MiB (target ≤ ${TARGET_RSS_MIB}); whole run with data generation and evaluation ${total.toFixed(0)} s — ` +
      `${round <= TARGET_SECONDS && rss <= TARGET_RSS_MIB ? 'MET' : 'NOT MET'}\n`,
  );
}

/** Write `lines` rating rows (user,item,rating,timestamp) with Zipf-ish items, chunk by chunk. */
async function writeRatings(path: string, lines: number, users: number, items: number): Promise<void> {
  const out = createWriteStream(path);
  const rng = new Rng(25);
  out.write('userId,movieId,rating,timestamp\n');
  const chunk = 100_000;
  for (let done = 0; done < lines; done += chunk) {
    let text = '';
    for (let k = done; k < Math.min(lines, done + chunk); k++) {
      const user = 1 + Math.floor((k / lines) * users); // grouped by user, as MovieLens files are
      const item = 1 + Math.floor(items * rng.next() ** 2);
      text += `${user},${item},${(1 + Math.floor(rng.next() * 10) / 2).toFixed(1)},${1_100_000_000 + k}\n`;
    }
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function stream25m(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-scale-'));
  try {
    const file = join(dir, 'ratings.csv');
    const t = performance.now();
    await writeRatings(file, 25_000_095, 162_541, 59_047);
    process.stdout.write(`generated ${file}: 25 000 095 lines, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    const readers = fileURLToPath(new URL('../data/readers.js', import.meta.url));
    const script = `
      const { loadDataset } = await import(${JSON.stringify(readers)});
      const t = performance.now();
      const ds = await loadDataset({ path: ${JSON.stringify(file)} });
      const s = (performance.now() - t) / 1000;
      process.stdout.write(JSON.stringify({ s, users: ds.nUsers, items: ds.nItems, pairs: ds.interactions.users.length, rss: process.resourceUsage().maxRSS / 1024 }));`;
    const child = spawn(process.execPath, ['--max-old-space-size=8192', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) throw new Error(`loading the 25 M-line file failed (exit ${code})`);
    const r = JSON.parse(out) as { s: number; users: number; items: number; pairs: number; rss: number };
    process.stdout.write(`loaded the 25 M-line ratings.csv: ${r.pairs} distinct (user, item) pairs, ${r.users} users, ${r.items} items in ${r.s.toFixed(0)} s; loader peak RSS ${r.rss.toFixed(0)} MiB\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function scaleBenchmark(): Promise<void> {
  const part = process.env.FEDREC_BENCH_SCALE;
  if (part !== 'stream') await ml10mRound();
  if (part !== 'round') await stream25m();
}
