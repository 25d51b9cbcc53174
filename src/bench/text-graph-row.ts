/**
 * One row of bench `text-graph-compare` (bench/text-graph.ts), run in a worker thread so the rows
 * share the machine's cores: trains and evaluates the text-graph run its `workerData` configures
 * (raw options, validated here) and posts back the figures the table prints.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseTrainConfig } from '../config/config.js';
import { runTextGraphTraining } from '../recipes/text-graph-experiment.js';

/** What a row's worker sends back. */
export interface CompareRow {
  readonly test: { hr: number; ndcg: number };
  readonly validation: { hr: number; ndcg: number };
  readonly popularity: { hr: number; ndcg: number };
  readonly config: Record<string, unknown>;
  readonly secondsPerRound: number;
}

const run = await runTextGraphTraining(parseTrainConfig(workerData));
const pick = (m: Record<string, number> | undefined) => ({ hr: m!['HR@10'], ndcg: m!['NDCG@10'] });
const row: CompareRow = {
  test: pick(run.result.metrics.test.sampled),
  validation: pick(run.result.metrics.validation.sampled),
  popularity: pick(run.result.baselines.popularity.test!.sampled),
  config: { ...(run.result.config as Record<string, unknown>), selectedRound: run.result.selectedRound },
  secondsPerRound: run.result.timing.secondsPerRound,
};
parentPort!.postMessage(row);
