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
import { GRAPH_CENTRAL_DEFAULTS } from '../runtime/graph-defaults.js';

const RATIO = 'ratio:0.8,0.1,0.1';

/**
 * Mean seconds per centralised epoch after the first (which warms the JIT): wall clock (the
 * history's `seconds`) and this process's CPU time between epoch ends (the two differ when the
 * machine is shared: CPU seconds are what the code costs).
 */
async function epochSeconds(extra: Record<string, unknown>, epochs: number): Promise<{ wall: number; cpu: number }> {
  const cpuAt: number[] = [];
  const run = await runTraining(
    parseTrainConfig({ mode: 'central', split: RATIO, epochs, warmUp: 0, evalEvery: 1000, eval: ['full'], k: [10], ...extra }),
    () => {
      const u = process.cpuUsage();
      cpuAt.push((u.user + u.system) / 1e6);
    },
  );
  const h = run.result.history;
  const n = Math.max(1, h.length - 1);
  const wall = h.slice(1).reduce((s, e) => s + e.seconds, 0) / n;
  return { wall, cpu: cpuAt.length > 1 ? (cpuAt[cpuAt.length - 1] - cpuAt[0]) / n : NaN };
}

const fmt = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU`;

export async function graphBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data100k = ml100k ? { data: ml100k } : {};
  const d = GRAPH_CENTRAL_DEFAULTS;
  for (const model of ['lightgcn', 'ncl']) {
    const t = await epochSeconds({ ...data100k, model }, 3);
    process.stdout.write(`centralised ${model} epoch on ML-100K (defaults: dim ${d.dim}, 3 layers, batch ${d.batch}, 100 clusters, k-means included): ${fmt(t)} (target ≤ 3 s)\n`);
  }
  const ml1m = { syntheticUsers: 6040, syntheticItems: 3706, syntheticInteractions: 1_000_000, clusters: 1000 };
  for (const model of ['lightgcn', 'ncl']) {
    const t = await epochSeconds({ ...ml1m, model }, 2);
    process.stdout.write(`centralised ${model} epoch on ML-1M-shaped synthetic data (1000 clusters): ${fmt(t)}\n`);
  }
}

/**
 * The runs of the comparison: label and config (everything else: defaults, so the plain CLI
 * reproduces each row). Every run probes validation every 5 epochs / rounds (the schema default)
 * and reports the best-validation checkpoint (`--select best`, the default), the same for all
 * models. MF appears twice: the engine's default MF (BCE, 4 negatives, dim 32) and BPR-MF with
 * LightGCN's loss, sampling and dim.
 */
export const GRAPH_COMPARE_RUNS: readonly { readonly label: string; readonly config: Record<string, unknown> }[] = [
  { label: 'MF (default: BCE, 4 neg, central)', config: { model: 'mf', mode: 'central' } },
  { label: 'MF (BPR, 1 neg, dim 64, central)', config: { model: 'mf', mode: 'central', loss: 'bpr', negatives: 1, dim: 64 } },
  { label: 'LightGCN (central)', config: { model: 'lightgcn', mode: 'central' } },
  { label: 'NCL (central)', config: { model: 'ncl', mode: 'central' } },
  { label: 'LightGCN (federated)', config: { model: 'lightgcn', mode: 'federated' } },
  { label: 'NCL (federated)', config: { model: 'ncl', mode: 'federated' } },
];

export async function graphCompareBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data = ml100k ? { data: ml100k } : {};
  const metrics = ['Recall', 'NDCG', 'HR', 'MRR', 'Precision'].flatMap((m) => [`${m}@10`, `${m}@20`]);
  const table = new Table({ head: ['model', 'split', ...metrics, 'best ep.', 's/epoch'] });
  for (const { label, config } of GRAPH_COMPARE_RUNS) {
    const run = await runTraining(parseTrainConfig({ ...data, split: RATIO, eval: ['full'], k: [10, 20], ...config }));
    const doc = run.result;
    const chosen = `${doc.config.selectedRound}/${doc.history.length}`;
    for (const part of ['test', 'validation'] as const) {
      const m = doc.metrics[part].full ?? {};
      table.push([label, part, ...metrics.map((k) => (m[k] ?? NaN).toFixed(4)), chosen, doc.timing.secondsPerRound.toFixed(2)]);
    }
    process.stderr.write(`${label}: validation NDCG@10 ${doc.metrics.validation.full?.['NDCG@10']?.toFixed(4)}, test NDCG@10 ${doc.metrics.test.full?.['NDCG@10']?.toFixed(4)} (epoch ${chosen}, ${doc.timing.totalSeconds.toFixed(0)} s)\n`);
  }
  process.stdout.write(
    'ML-100K, per-user 8:1:1 ratio split (seed 42), full ranking (RecBole protocol); best-validation checkpoint (probed every 5 epochs/rounds)\n' +
      `${table.toString()}\n`,
  );
}
