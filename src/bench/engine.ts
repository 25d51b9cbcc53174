/**
 * Engine benchmark (issue: the fedrec engine): seconds per FedAvg round over every client of
 * ML-100K and of an ML-1M-shaped synthetic set (MF dim 32, 1 local epoch, batch 32, 4 negatives),
 * peak RSS, and the epoch time of centralised MF and NeuMF on ML-100K. Recency weighting is off
 * (the configuration; the default's weighting adds about a third more examples).
 */
import { parseTrainConfig } from '../runtime/config.js';
import { runTraining } from '../runtime/experiment.js';
import { ml100kPath, peakRssMiB } from './util.js';

async function roundSeconds(extra: Record<string, unknown>, rounds: number): Promise<number> {
  const run = await runTraining(parseTrainConfig({
    mode: 'federated', model: 'mf', dim: 32, localEpochs: 1, batch: 32, negatives: 4,
    optimizer: 'sgd', lr: 1, recencyWindow: 0, rounds, evalEvery: 1000, eval: ['sampled'], k: [10], select: 'last', ...extra,
  }));
  const h = run.result.history;
  return h.slice(1).reduce((s, e) => s + e.seconds, 0) / Math.max(1, h.length - 1); // first round warms the JIT
}

export async function engineBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data100k = ml100k ? { data: ml100k } : {};
  for (const workers of [1, 2]) {
    const r100k = await roundSeconds({ ...data100k, workers }, 6);
    process.stdout.write(`FedAvg MF round, all 943 ML-100K clients, ${workers} worker(s): ${r100k.toFixed(3)} s (target ≤ 0.3 s)\n`);
  }
  const r1m = await roundSeconds({ syntheticUsers: 6040, syntheticItems: 3706, syntheticInteractions: 1_000_000, workers: 2 }, 3);
  process.stdout.write(`FedAvg MF round, all 6040 ML-1M-shaped clients, 2 workers: ${r1m.toFixed(3)} s (target ≤ 3 s); peak RSS ${peakRssMiB().toFixed(0)} MiB (target ≤ 1024)\n`);
  for (const model of ['mf', 'neumf']) {
    const run = await runTraining(parseTrainConfig({ ...data100k, mode: 'central', model, recencyWindow: 0, epochs: 3, evalEvery: 1000, eval: ['sampled'], k: [10] }));
    const epoch = run.result.history.reduce((s, e) => s + e.seconds, 0) / run.result.history.length;
    process.stdout.write(`centralised ${model} epoch on ML-100K (batch 256, 4 negatives): ${epoch.toFixed(2)} s\n`);
  }
}
