/**
 * `simd-parity`: the WebAssembly SIMD MF client (federated/mf-simd-client.ts) against the generic
 * JavaScript path on a full default run — `fedrec train --data ml-100k` (FedAvg MF, FedAdam server,
 * 100 rounds, best-validation round), one worker — printing both runs' reported test metrics.
 * Target: the same test HR@10 and NDCG@10 to 3 decimals (Float32 SIMD arithmetic agrees with the
 * generic path to rounding, not bit for bit, so tiny drifts over 100 rounds are expected).
 */
import { parseTrainConfig } from '../config/config.js';
import { runTraining } from '../recipes/experiment.js';
import { ml100kPath } from './util.js';

export async function simdParityBenchmark(): Promise<void> {
  const data = ml100kPath();
  const c = parseTrainConfig(data ? { data } : {});
  const rows: Array<[string, Record<string, number>, number, number]> = [];
  for (const simd of [true, false]) {
    const t = performance.now();
    const { result } = await runTraining(c, undefined, { simd });
    rows.push([simd ? 'SIMD client' : 'generic client', result.metrics.test.sampled!, Number(result.selectedRound), (performance.now() - t) / 1000]);
  }
  process.stdout.write(`FedAvg MF default run on ${data ? 'ML-100K' : 'synthetic data'}, ${c.rounds} rounds, seed ${c.seed}, 1 worker\n`);
  for (const [name, m, round, secs] of rows) {
    process.stdout.write(`${name.padEnd(15)} test HR@10 ${m['HR@10'].toFixed(3)} (${m['HR@10'].toFixed(6)})  NDCG@10 ${m['NDCG@10'].toFixed(3)} (${m['NDCG@10'].toFixed(6)})  selected round ${round}  ${secs.toFixed(0)} s (shared machine)\n`);
  }
  const same = (k: string) => rows[0][1][k].toFixed(3) === rows[1][1][k].toFixed(3);
  process.stdout.write(`equal to 3 decimals: HR@10 ${same('HR@10') ? 'yes' : 'NO'}, NDCG@10 ${same('NDCG@10') ? 'yes' : 'NO'} (target: both yes)\n`);
}
