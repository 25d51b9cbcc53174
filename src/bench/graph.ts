/**
 * Graph-model benchmarks (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022).
 *  graph          seconds per centralised epoch of LightGCN and NCL (k-means E-step included, no
 *                 warm-up) on ML-100K and on an ML-1M-shaped synthetic set.
 *  graph-compare  the quality table of issue 6: ML-100K, per-user 8:1:1 ratio split, full
 *                 ranking, test and validation metrics of MF, LightGCN and NCL (centralised) and
 *                 LightGCN / NCL (federated), in one run with fixed settings.
 */
import Table from 'cli-table3';
import { parseTrainConfig } from '../runtime/config.js';
import { runTraining } from '../runtime/experiment.js';
import { ml100kPath } from './util.js';

const RATIO = 'ratio:0.8,0.1,0.1';

async function epochSeconds(extra: Record<string, unknown>, epochs: number): Promise<number> {
  const run = await runTraining(parseTrainConfig({ mode: 'central', split: RATIO, epochs, warmUp: 0, evalEvery: 1000, eval: ['full'], k: [10], ...extra }));
  const h = run.result.history;
  return h.slice(1).reduce((s, e) => s + e.seconds, 0) / Math.max(1, h.length - 1); // first epoch warms the JIT
}

export async function graphBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data100k = ml100k ? { data: ml100k } : {};
  for (const model of ['lightgcn', 'ncl']) {
    const s = await epochSeconds({ ...data100k, model }, 3);
    process.stdout.write(`centralised ${model} epoch on ML-100K (defaults: dim 64, 3 layers, batch 4096, 100 clusters): ${s.toFixed(2)} s (target ≤ 3 s)\n`);
  }
  const ml1m = { syntheticUsers: 6040, syntheticItems: 3706, syntheticInteractions: 1_000_000, clusters: 1000 };
  for (const model of ['lightgcn', 'ncl']) {
    const s = await epochSeconds({ ...ml1m, model }, 2);
    process.stdout.write(`centralised ${model} epoch on ML-1M-shaped synthetic data (1000 clusters): ${s.toFixed(2)} s\n`);
  }
}

/** The runs of the comparison: label and config (everything else: defaults). */
export const GRAPH_COMPARE_RUNS: readonly { readonly label: string; readonly config: Record<string, unknown> }[] = [
  { label: 'MF (BPR, central)', config: { model: 'mf', mode: 'central', loss: 'bpr', negatives: 1, dim: 64 } },
  { label: 'LightGCN (central)', config: { model: 'lightgcn', mode: 'central' } },
  { label: 'NCL (central)', config: { model: 'ncl', mode: 'central', sslReg: 1e-6, protoReg: 1e-7 } },
  { label: 'LightGCN (federated)', config: { model: 'lightgcn', mode: 'federated' } },
  { label: 'NCL (federated)', config: { model: 'ncl', mode: 'federated', protoReg: 1e-7, warmUp: 5 } },
];

export async function graphCompareBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data = ml100k ? { data: ml100k } : {};
  const metrics = ['Recall', 'NDCG', 'HR', 'MRR', 'Precision'].flatMap((m) => [`${m}@10`, `${m}@20`]);
  const table = new Table({ head: ['model', 'split', ...metrics, 's/epoch'] });
  for (const { label, config } of GRAPH_COMPARE_RUNS) {
    const run = await runTraining(parseTrainConfig({ ...data, split: RATIO, eval: ['full'], k: [10, 20], evalEvery: 1000, ...config }));
    const doc = run.result;
    for (const part of ['test', 'validation'] as const) {
      const m = doc.metrics[part].full ?? {};
      table.push([label, part, ...metrics.map((k) => (m[k] ?? NaN).toFixed(4)), doc.timing.secondsPerRound.toFixed(2)]);
    }
    process.stderr.write(`${label}: test NDCG@10 ${doc.metrics.test.full?.['NDCG@10']?.toFixed(4)} (${doc.timing.totalSeconds.toFixed(0)} s)\n`);
  }
  process.stdout.write(`ML-100K, per-user 8:1:1 ratio split (seed 42), full ranking (RecBole protocol)\n${table.toString()}\n`);
}
