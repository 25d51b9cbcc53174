/**
 * Text-graph benchmarks (UFGraphFR, arXiv 2501.08044; GPFedRec, KDD 2024).
 * `text-graph`: one round of graph aggregation with the default settings on ML-1M-shaped synthetic
 *   data (6040 users, 3706 items, 1M interactions, user text from the synthetic side info, hashing
 *   encoder 512-d so the shapes match USE), and with L = 2: every user uploads vec(W_u) [512·32] and its trained rows (train positives
 *   plus 4 sampled negatives each); timed: accept (sketching) + endRound (graph, propagation,
 *   θ_global, personal rows); targets ≤ 10 s and peak RSS ≤ 1.5 GiB.
 * `text-graph-compare`: ML-100K, EVALUATION.md protocol (leave-one-out by time, sampled-99, test
 *   metrics of the best-validation round): FedAvg with the same client model vs graph aggregation
 *   vs centralised, offline USE encoder, graph aggregation with random vectors instead of text
 *   (ablation; TG_SHUFFLE=1 adds shuffled texts), and graph aggregation under the protocol option
 *   `testHistory` 'train+validation' (test's recent items start with the validation item; the
 *   popularity baseline of that row counts it too; MF reads no history, so has no such row). TG_ROUNDS / TG_EPOCHS shorten
 *   the budget; the runs go to worker threads, TG_JOBS at a time (default: one per core);
 *   TG_SEEDS=42,43,44 repeats every row per seed and adds mean ± standard deviation (evaluation and
 *   training negatives and the initialisation follow the seed; the leave-one-out-by-time split does
 *   not).
 * `text-graph` also times the client: one default round of 300 users, CPU ms per 100 interactions.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { generateSynthetic } from '../data/synthetic.js';
import { leaveOneOut } from '../data/split.js';
import { rowOf } from '../data/user-items.js';
import { Rng } from '../math/rng.js';
import { headParamInfo, initJointLayer, initTextGraphGlobal, textInputs } from '../models/text-graph/model.js';
import { parseTrainConfig } from '../config/config.js';
import { graphOptionsOf, textGraphConfigOf, textGraphPlanOf } from '../recipes/text-graph-experiment.js';
import { GraphAggregation } from '../federated/graph.js';
import type { GraphUpdate } from '../federated/personal-types.js';
import { uniqueSorted } from '../federated/compact.js';
import { userTexts } from '../text/user-text.js';
import { HashingEncoder } from '../text/hash.js';
import { ml100kPath, peakRssMiB } from './util.js';
import type { CompareRow } from './text-graph-row.js';
import { partitionClients } from '../federated/partition.js';
import { clientNegativeSource } from '../federated/client-work.js';
import { runTextGraphClientRound, type TextGraphPlan } from '../federated/text-graph-client.js';

/** CPU seconds (user + system) of this process since `since`: wall time is unreliable on a shared machine. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

export async function textGraphBenchmark(): Promise<void> {
  const ds = generateSynthetic({ users: 6040, items: 3706, interactions: 1_000_000, seed: 1 });
  const split = leaveOneOut(ds, { seed: 1 });
  const encoder = new HashingEncoder(512, 1);
  const texts = await encoder.encode(userTexts(ds));
  // the text-graph defaults (config/text-graph-defaults.ts and the config schema), as `fedrec train` would run them
  const defaults = parseTrainConfig({ model: 'text-graph', algorithm: 'graph' });
  const cfg = textGraphConfigOf(defaults, 512);
  const global = initTextGraphGlobal(cfg, split.nItems, new Rng(1));
  const w0 = initJointLayer(cfg, new Rng(3));
  const headInfo = headParamInfo(cfg);
  {
    // client cost: one round of the first 300 users with the default plan (local epochs, batch, optimiser, negatives, recency)
    const clients = partitionClients(split, 1, 1).slice(0, 300);
    const plan: TextGraphPlan = { ...textGraphPlanOf(defaults, cfg, true), round: 1, seed: 1 };
    let interactions = 0;
    const cpu = process.cpuUsage();
    for (const client of clients) {
      interactions += client.positives.reduce((n, p) => n + p.length, 0);
      runTextGraphClientRound(plan, { global, personal: () => null }, client, textInputs(cfg, texts[client.users[0]], w0), null, clientNegativeSource(split.nItems, client));
    }
    const ms = cpuSeconds(cpu) * 1000;
    process.stdout.write(
      `text-graph client, ${clients.length} users, ${interactions} train interactions (${plan.localEpochs} local epoch(s), ${plan.negatives} negatives each, recency ${defaults.recencyWindow}×${defaults.recencyWeight}), head ${defaults.head} [${cfg.layers}] on [e_u, q_i], d ${cfg.dim}, recent items ${defaults.recentItems}: ` +
        `${(ms / clients.length).toFixed(2)} ms CPU per client, ${((ms * 100) / interactions).toFixed(2)} ms CPU per 100 interactions\n`,
    );
  }
  for (const layers of [...new Set([defaults.graphLayers, 2])]) {
    const strategy = new GraphAggregation(global, split.nUsers, split.nItems, cfg.textDim * cfg.dim, headInfo, { ...graphOptionsOf(defaults), layers, seed: 1 });
    const rng = new Rng(2);
    let acceptSeconds = 0;
    let acceptCpu = 0;
    for (let round = 1; round <= 2; round++) {
      strategy.beginRound(round);
      for (let u = 0; u < split.nUsers; u++) {
        // the upload a trained client sends: W_u ≈ v_u ⊗ g_u (rank one, as SGD makes it), rows = positives + 4 negatives each
        const g = Float32Array.from({ length: cfg.dim }, () => rng.normal());
        const weightVector = new Float32Array(cfg.textDim * cfg.dim);
        for (let t = 0; t < cfg.textDim; t++) for (let f = 0; f < cfg.dim; f++) weightVector[t * cfg.dim + f] = texts[u][t] * g[f] * 0.01;
        const pos = rowOf(split.train, u);
        const neg = Int32Array.from({ length: 4 * pos.length }, () => rng.int(split.nItems));
        const rows = uniqueSorted([pos, neg]);
        const itemRows = new Float32Array(rows.length * cfg.dim);
        for (let k = 0; k < rows.length; k++) for (let f = 0; f < cfg.dim; f++) itemRows[k * cfg.dim + f] = global.item[rows[k] * cfg.dim + f] + 0.01 * rng.normal();
        const denseTables = Object.fromEntries(headInfo.map((p) => [p.name, new Float32Array(p.rows * p.cols)]));
        const update: GraphUpdate = { round, weight: rows.length, rows: new Int32Array(0), itemTables: {}, denseTables, loss: 0, users: [{ user: u, weightVector, rows, itemRows, weight: rows.length }] };
        const t = performance.now();
        const cpu = process.cpuUsage();
        strategy.accept(update);
        acceptSeconds += (performance.now() - t) / 1000;
        acceptCpu += cpuSeconds(cpu);
      }
      const t = performance.now();
      const cpu = process.cpuUsage();
      strategy.endRound(global);
      const endSeconds = (performance.now() - t) / 1000;
      const endCpu = cpuSeconds(cpu);
      const s = strategy.lastStats!;
      process.stdout.write(
        `graph aggregation, L=${layers}, round ${round}, 6040 users (sketch ${defaults.sketchDim}, top-${defaults.neighbors}, ${defaults.norm} norm, personal rows ${defaults.personalRows}): accept ${(acceptSeconds).toFixed(2)} s + endRound ${endSeconds.toFixed(2)} s ` +
          `(graph ${s.graphSeconds.toFixed(2)} s, propagation+θ ${s.propagateSeconds.toFixed(2)} s) = ${(acceptSeconds + endSeconds).toFixed(2)} s wall, ${(acceptCpu + endCpu).toFixed(2)} s CPU (target ≤ 10 s); ` +
          `personal rows ${s.personalRows} (${((s.personalRows * cfg.dim * 4) / 2 ** 20).toFixed(0)} MiB); peak RSS ${peakRssMiB().toFixed(0)} MiB (target ≤ 1536)\n`,
      );
      acceptSeconds = 0;
      acceptCpu = 0;
    }
  }
}

export async function textGraphCompareBenchmark(): Promise<void> {
  const data = ml100kPath();
  if (!data) return;
  // The text-graph defaults (config/text-graph-defaults.ts) throughout; TG_ROUNDS / TG_EPOCHS shorten a run.
  const common: Record<string, unknown> = { data, model: 'text-graph', eval: ['sampled'], k: [10] };
  if (process.env.TG_ROUNDS) common.rounds = Number(process.env.TG_ROUNDS);
  if (process.env.TG_EPOCHS) common.epochs = Number(process.env.TG_EPOCHS);
  const runs: Array<[string, Record<string, unknown>]> = [
    ['centralised (USE)', { mode: 'central' }],
    ['FedAvg, same client model (USE)', { algorithm: 'fedavg' }],
    ['graph aggregation (USE)', { algorithm: 'graph' }],
    ['graph aggregation, random vectors', { algorithm: 'graph', textAblation: 'random' }],
    // trains as the graph row; under the protocol option, test's recent items start with the validation item
    ['graph aggregation, test history train+validation (protocol option)', { algorithm: 'graph', testHistory: 'train+validation' }],
  ];
  if (process.env.TG_SHUFFLE === '1') runs.push(['graph aggregation, shuffled texts', { algorithm: 'graph', textAblation: 'shuffle' }]);
  const seeds = seedsOf(process.env.TG_SEEDS);
  const plan = runs.flatMap(([name, extra]) => seeds.map((seed) => ({ name, extra, config: { ...common, ...extra, ...(seed === null ? {} : { seed }) } })));
  const jobs = Math.min(plan.length, jobsOf(process.env.TG_JOBS));
  process.stdout.write(`${plan.length} runs, ${jobs} at a time (TG_JOBS; each in its own worker thread, so wall seconds per round include the others' load)\n`);
  const started = performance.now();
  const label = (k: number) => plan[k].name + (seeds.length > 1 ? `, seed ${plan[k].config.seed}` : '');
  const results = await runPooled(plan.map((p) => p.config), jobs, (k, row) => process.stdout.write(formatRow(label(k), plan[k].extra, row) + '\n'));
  const graph = results.find((_, k) => plan[k].extra.algorithm === 'graph')!.config;
  const setup = `federated: ${graph.rounds} rounds, all clients, ${graph.localEpochs} local epoch(s), batch ${graph.batch}, ${graph.optimizer} lr ${graph.lr}, server ${graph.serverOptimizer} lr ${graph.serverLr}; recency weighting ${graph.recencyWindow}×${graph.recencyWeight} (all rows); head ${graph.head}, recent items ${graph.recentItems} (test history ${graph.testHistory}), λ ${graph.lambda}, ${graph.neighbors} neighbours, L ${graph.graphLayers}, ${graph.norm} norm, personal rows ${graph.personalRows}, sketch ${graph.sketchDim}; encoder ${graph.encoderId}`;
  const p = results[0].popularity;
  const rows = [`${'popularity baseline'.padEnd(36)} test HR@10 ${p.hr.toFixed(4)}  NDCG@10 ${p.ndcg.toFixed(4)}`, ...results.map((row, k) => formatRow(label(k), plan[k].extra, row))];
  if (seeds.length > 1) {
    rows.push(`\nover seeds ${seeds.join(', ')} (mean ± sample standard deviation):`);
    runs.forEach(([name], r) => {
      const mine = results.slice(r * seeds.length, (r + 1) * seeds.length);
      const stat = (f: (row: CompareRow) => number) => meanSd(mine.map(f));
      rows.push(`${name.padEnd(36)} test HR@10 ${stat((x) => x.test.hr)}  NDCG@10 ${stat((x) => x.test.ndcg)}  | val HR@10 ${stat((x) => x.validation.hr)}  NDCG@10 ${stat((x) => x.validation.ndcg)}`);
    });
  }
  process.stdout.write(`\nML-100K, leave-one-out by time, sampled-99, test metrics of the best-validation round/epoch (NDCG@10); ${setup}; ${((performance.now() - started) / 60000).toFixed(1)} min in all:\n${rows.join('\n')}\n`);
}

/** TG_JOBS: runs at a time, a positive integer; absent → one per core. */
function jobsOf(env: string | undefined): number {
  if (env === undefined || env.trim() === '') return availableParallelism();
  const jobs = Number(env);
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new Error(`TG_JOBS: expected a positive integer, got ${JSON.stringify(env)}`);
  return jobs;
}

/** TG_SEEDS: comma-separated integer seeds; absent → [null] (the config's default seed). */
function seedsOf(env: string | undefined): (number | null)[] {
  if (env === undefined || env.trim() === '') return [null];
  return env.split(',').map((t) => {
    const seed = Number(t.trim());
    if (t.trim() === '' || !Number.isSafeInteger(seed)) throw new Error(`TG_SEEDS: expected comma-separated integers, got ${JSON.stringify(env)}`);
    return seed;
  });
}

function meanSd(xs: number[]): string {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return `${mean.toFixed(4)} ± ${sd.toFixed(4)}`;
}

function formatRow(name: string, extra: Record<string, unknown>, row: CompareRow): string {
  const budget = extra.mode === 'central' ? `epoch ${row.config.selectedRound}/${row.config.epochs}` : `round ${row.config.selectedRound}/${row.config.rounds}`;
  return `${name.padEnd(36)} test HR@10 ${row.test.hr.toFixed(4)}  NDCG@10 ${row.test.ndcg.toFixed(4)}  | val HR@10 ${row.validation.hr.toFixed(4)}  NDCG@10 ${row.validation.ndcg.toFixed(4)}` +
    `  | best-validation ${budget} | ${row.secondsPerRound.toFixed(1)} s/round wall`;
}

/** Runs each configuration in a worker thread (bench/text-graph-row.ts), `jobs` at a time; results in input order. */
async function runPooled(configs: Record<string, unknown>[], jobs: number, onRow: (k: number, row: CompareRow) => void): Promise<CompareRow[]> {
  const results: CompareRow[] = new Array(configs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < configs.length) {
      const k = next++;
      results[k] = await new Promise<CompareRow>((resolve, reject) => {
        const worker = new Worker(new URL('./text-graph-row.js', import.meta.url), { workerData: configs[k] });
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => code !== 0 && reject(new Error(`text-graph-compare: run ${k + 1} exited with code ${code}`)));
      });
      onRow(k, results[k]);
    }
  };
  await Promise.all(Array.from({ length: jobs }, lane));
  return results;
}
