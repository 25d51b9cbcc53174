/**
 * FedRecon benchmark (issue 3): seconds per Federated Reconstruction round with 50 clients on
 * ML-100K (explicit MF with the FedRecon defaults, and implicit MF with BCE), and the time to
 * reconstruct and score every unseen evaluation user once (the final evaluation).
 */
import { parseTrainConfig } from '../config/config.js';
import { runFedReconTraining } from '../recipes/fedrecon-experiment.js';
import { ml100kPath, peakRssMiB } from './util.js';

export async function fedreconBenchmark(): Promise<void> {
  const ml100k = ml100kPath();
  const data = ml100k ? { data: ml100k } : {};
  for (const feedback of ['explicit', 'implicit'] as const) {
    const run = await runFedReconTraining(parseTrainConfig({
      ...data, algorithm: 'fedrecon', feedback, clientsPerRound: 50, rounds: 11, evalEvery: 1000, eval: ['sampled'], k: [10],
    }));
    const h = run.result.history;
    const round = h.slice(1).reduce((s, e) => s + e.seconds, 0) / (h.length - 1); // first round warms the JIT
    const evaluation = run.result.timing.totalSeconds - h.reduce((s, e) => s + e.seconds, 0);
    process.stdout.write(`FedRecon ${feedback} MF round, 50 ML-100K clients: ${round.toFixed(3)} s; ` +
      `loading + final evaluation of unseen users: ${evaluation.toFixed(2)} s\n`);
  }
  process.stdout.write(`peak RSS ${peakRssMiB().toFixed(0)} MiB\n`);
}
