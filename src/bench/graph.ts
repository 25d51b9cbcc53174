/**
 * Graph-model benchmarks (LightGCN, He et al. SIGIR 2020; NCL, Lin et al. WWW 2022).
 *  graph          seconds per centralised epoch of LightGCN and NCL (k-means E-step included, no
 *                 warm-up) on ML-100K (whole epochs, wall and CPU) and on an ML-1M-shaped
 *                 synthetic set (k-means + a few timed batches, extrapolated to an epoch).
 *  graph-compare  the quality table of issue 6: ML-100K, per-user 8:1:1 ratio split, full
 *                 ranking, test and validation metrics of MF, LightGCN and NCL (centralised) and
 *                 LightGCN / NCL (federated), in one run with the defaults (graph-defaults.ts),
 *                 best-validation checkpoint for every model.
 */
import Table from 'cli-table3';
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset, runTraining, splitDataset } from '../recipes/experiment.js';
import { graphSettings } from '../config/graph-settings.js';
import { rowOf } from '../data/user-items.js';
import { NegativeSampler } from '../data/negatives.js';
import { Rng } from '../math/rng.js';
import { GraphTrainer } from '../models/lightgcn/fit.js';
import { LightGcn } from '../models/lightgcn/model.js';
import { NclLoss } from '../models/ncl/loss.js';
import { computePrototypes } from '../models/ncl/prototypes.js';
import { createOptimizer } from '../optim/registry.js';
import { buildEpochExamples } from '../train/examples.js';
import type { ExampleSet } from '../train/types.js';
import { ml100kPath } from './util.js';
import { GRAPH_CENTRAL_DEFAULTS } from '../config/graph-defaults.js';

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
  // ML-1M shape: an epoch is ~245 batches of 4096 (NCL: each with all-users × batch-users InfoNCE
  // products), far too long to run whole here; time k-means plus a few batches and extrapolate.
  const ml1m = { syntheticUsers: 6040, syntheticItems: 3706, syntheticInteractions: 1_000_000, clusters: 1000 };
  for (const model of ['lightgcn', 'ncl'] as const) {
    const t = await extrapolatedEpoch({ ...ml1m, model }, model === 'ncl' ? 2 : 6);
    process.stdout.write(
      `centralised ${model} epoch on ML-1M-shaped synthetic data (1000 clusters), extrapolated from ${t.batches} of ${t.perEpoch} batches: ` +
        `${t.seconds.toFixed(1)} s (k-means ${t.kmeans.toFixed(2)} s + ${t.perBatch.toFixed(3)} s per batch)\n`,
    );
  }
}

/** k-means (NCL) + `batches` timed minibatches after one untimed, scaled to a whole epoch (wall clock). */
export async function extrapolatedEpoch(extra: Record<string, unknown>, batches: number): Promise<{ seconds: number; kmeans: number; perBatch: number; batches: number; perEpoch: number; cpuSeconds: number }> {
  const c = parseTrainConfig({ mode: 'central', split: RATIO, warmUp: 0, ...extra });
  const split = splitDataset(await loadConfiguredDataset(c), c.split, c.seed);
  const s = graphSettings(c);
  const { nUsers, nItems } = split;
  const model = new LightGcn({ nUsers, nItems, dim: s.dim, layers: s.layers, depth: s.ncl ? Math.max(s.layers, 2 * s.ncl.hyperLayers) : s.layers }, split.train, { seed: s.seed });
  const ncl = s.ncl ? new NclLoss(nUsers, nItems, s.dim, { ...s.ncl, userSide: true }) : null;
  const trainer = new GraphTrainer(model, createOptimizer(s.optimizer), { batch: s.batch, reg: s.reg }, ncl);
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const k0 = performance.now();
  if (ncl && s.ncl) {
    const opts = { clusters: s.ncl.clusters, iterations: s.ncl.kmeansIterations };
    ncl.userPrototypes = computePrototypes(model.userEmb, s.dim, { ...opts, seed: 1 });
    ncl.itemPrototypes = computePrototypes(model.itemEmb, s.dim, { ...opts, seed: 2 });
  }
  const kmeans = (performance.now() - k0) / 1000;
  const kmeansCpu = cpu() - c0;
  const positives = Array.from({ length: nUsers }, (_, u) => ({ user: u, items: rowOf(split.train, u) }));
  const all = buildEpochExamples(positives, new NegativeSampler(split), 'bpr', 1, Rng.derive(s.seed, 'bench'));
  const take = (from: number, n: number): ExampleSet => {
    const end = Math.min(all.length, from + n * s.batch);
    return { users: all.users.slice(from, end), items: all.items.slice(from, end), labels: all.labels.slice(from, end), negatives: all.negatives!.slice(from, end), length: end - from };
  };
  trainer.fitEpoch(take(0, 1)); // JIT warm-up
  const t0 = performance.now();
  const c1 = cpu();
  trainer.fitEpoch(take(s.batch, batches));
  const perBatch = (performance.now() - t0) / 1000 / batches;
  const perBatchCpu = (cpu() - c1) / batches;
  const perEpoch = Math.ceil(all.length / s.batch);
  return { seconds: kmeans + perBatch * perEpoch, kmeans, perBatch, batches, perEpoch, cpuSeconds: kmeansCpu + perBatchCpu * perEpoch };
}

/**
 * The runs of the comparison: label and config (everything else: defaults, so the plain CLI
 * reproduces each row). Every run probes validation every 5 epochs / rounds (the schema default)
 * and reports the best-validation checkpoint (`--select best`, the default), the same for all
 * models. MF appears three times: the engine's MF (BCE, 4 negatives, dim 32) and BPR-MF with
 * LightGCN's loss, sampling and dim, both without recency weighting (the graph models have none,
 * so the model comparison is like for like), and the engine's default MF with recency weighting.
 */
export const GRAPH_COMPARE_RUNS: readonly { readonly label: string; readonly config: Record<string, unknown> }[] = [
  { label: 'MF (BCE, 4 neg, central)', config: { model: 'mf', mode: 'central', recencyWindow: 0 } },
  { label: 'MF (BPR, 1 neg, dim 64, central)', config: { model: 'mf', mode: 'central', loss: 'bpr', negatives: 1, dim: 64, recencyWindow: 0 } },
  { label: 'MF + recency 20×3 (default, central)', config: { model: 'mf', mode: 'central' } },
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
    const chosen = `${doc.selectedRound}/${doc.history.length}`;
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
