/**
 * The machine-readable result document of a run, exactly the shape EVALUATION.md fixes:
 * dataset, config, metrics per split and protocol, baselines in the same shape, history, timing.
 */
import type { ExplicitMetrics, MetricMap } from '../eval/types.js';
import type { HistoryEntry } from './history.js';
import type { PrivacyReport } from '../privacy/dp-fedavg.js';

export interface SplitMetrics {
  sampled?: MetricMap;
  full?: MetricMap;
  explicit?: ExplicitMetrics;
}

export interface ResultDocument {
  /** The fedrec version that produced the document. */
  fedrecVersion: string;
  /** The round (federated) or epoch (central) whose model the metrics describe. */
  selectedRound: number;
  dataset: { name: string; users: number; items: number; interactions: number; split: string };
  config: Record<string, unknown>;
  metrics: { test: SplitMetrics; validation: SplitMetrics };
  baselines: Record<string, { test?: SplitMetrics; validation?: SplitMetrics }>;
  history: HistoryEntry[];
  timing: { totalSeconds: number; secondsPerRound: number };
  /** User-level DP runs only (privacy/dp-fedavg.ts): what was spent, by the RDP accountant. */
  privacy?: PrivacyReport;
}
