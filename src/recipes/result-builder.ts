/**
 * The EVALUATION.md result document (report/result.ts), assembled once for every recipe: the data
 * set and its split, the recorded config, the selected round, the metrics of the selected model,
 * the baselines of the same run, the history and the timing (privacy spent, for DP runs).
 */
import type { Dataset, EvalPart } from '../data/types.js';
import type { PrivacyReport } from '../privacy/dp-fedavg.js';
import type { ResultDocument, SplitMetrics } from '../report/result.js';
import { FEDREC_VERSION } from '../version.js';
import { recordedConfig } from '../config/config-scope.js';
import type { TrainConfig } from '../config/config.js';
import type { HistoryEntry } from '../report/history.js';

/** Metrics of one model (or baseline) per evaluated part. */
export type PartMetrics = Partial<Record<EvalPart, SplitMetrics>>;

export interface ResultParts {
  readonly dataset: Dataset;
  /** How the data was divided: the split's method, or FedRecon's user split. */
  readonly split: string;
  /** The run's config (recorded with `recordedConfig`) and any fields the recipe adds after it. */
  readonly config: TrainConfig;
  readonly configExtras?: Record<string, unknown>;
  /** The round or epoch whose model `metrics` describe. */
  readonly selectedRound: number;
  readonly metrics: PartMetrics;
  /** Each baseline's metrics per part, by name, in the order they are reported. */
  readonly baselines: Readonly<Record<string, PartMetrics>>;
  readonly history: HistoryEntry[];
  /** `performance.now()` when the run started (the document's total seconds). */
  readonly started: number;
  readonly privacy?: PrivacyReport;
}

export function buildResult(r: ResultParts): ResultDocument {
  const { dataset, history } = r;
  const trainSeconds = history.reduce((s, h) => s + h.seconds, 0);
  return {
    dataset: { name: dataset.name, users: dataset.nUsers, items: dataset.nItems, interactions: dataset.interactions.users.length, split: r.split },
    fedrecVersion: FEDREC_VERSION,
    selectedRound: r.selectedRound,
    config: { ...recordedConfig(r.config), ...r.configExtras },
    metrics: { test: r.metrics.test as SplitMetrics, validation: r.metrics.validation ?? {} },
    baselines: Object.fromEntries(Object.entries(r.baselines).map(([name, b]) => [name, { test: b.test, validation: b.validation }])),
    history,
    timing: { totalSeconds: (performance.now() - r.started) / 1000, secondsPerRound: history.length > 0 ? trainSeconds / history.length : 0 },
    ...(r.privacy ? { privacy: r.privacy } : {}),
  };
}
