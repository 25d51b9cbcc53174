/**
 * What the HTML report plots, computed from result documents (EVALUATION.md): per run the loss,
 * bytes up/down and validation metrics per round or epoch, the round/epoch selected on validation,
 * and the final test metrics beside the baselines of the same run. The page script
 * (page/report-page.ts) only draws these numbers; it computes none.
 */
import type { ResultDocument, SplitMetrics } from './result.js';

export interface Point {
  readonly x: number;
  readonly y: number | null;
}

/** Series keys are `protocol metric`, e.g. `sampled NDCG@10`, `full HR@20`, `explicit rmse`. */
export type MetricValues = Readonly<Record<string, number | null>>;

export interface RunSeries {
  readonly name: string;
  /** model, mode and algorithm, e.g. `mf federated fedavg`. */
  readonly label: string;
  readonly dataset: string;
  readonly unit: 'round' | 'epoch';
  /** The round/epoch whose model the test metrics are of (selected on validation, or the last). */
  readonly selectedRound: number;
  readonly totalSeconds: number;
  readonly loss: readonly Point[];
  readonly bytesUp: readonly Point[];
  readonly bytesDown: readonly Point[];
  /** Validation metrics at the rounds/epochs that were evaluated. */
  readonly validation: Readonly<Record<string, readonly Point[]>>;
  readonly test: MetricValues;
  readonly baselines: Readonly<Record<string, MetricValues>>;
}

export interface ReportData {
  readonly title: string;
  readonly generatedAt: string;
  readonly runs: readonly RunSeries[];
  /** Validation series drawn as learning curves, one chart each. */
  readonly validationCharts: readonly string[];
  /** Test metrics drawn as bars against the baselines, one chart per protocol. */
  readonly testCharts: Readonly<Record<string, readonly string[]>>;
  /** Baselines drawn once when every run has the same ones (same data and split), else per run. */
  readonly sharedBaselines: boolean;
}

export interface NamedRun {
  readonly name: string;
  readonly doc: ResultDocument;
}

const PROTOCOLS = ['sampled', 'full', 'explicit'] as const;
const EXPLICIT = ['rmse', 'mae', 'ratingAccuracy'];

function flatten(m: SplitMetrics | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const p of PROTOCOLS) {
    const map = m?.[p] as Record<string, number | null> | undefined;
    if (map) for (const [k, v] of Object.entries(map)) out[`${p} ${k}`] = v;
  }
  return out;
}

/** The round/epoch the run reports test metrics for: the document's own field, else the last. */
export function selectedRoundOf(doc: ResultDocument): number {
  const d = doc as ResultDocument & { selectedRound?: unknown };
  const v = typeof d.selectedRound === 'number' ? d.selectedRound : doc.config.selectedRound;
  return typeof v === 'number' && Number.isInteger(v) ? v : doc.history.length;
}

function runSeries({ name, doc }: NamedRun): RunSeries {
  const c = doc.config;
  const central = c.mode === 'central';
  const validation: Record<string, Point[]> = {};
  for (const h of doc.history) {
    for (const [key, y] of Object.entries(flatten(h.validation as SplitMetrics))) (validation[key] ??= []).push({ x: h.round, y });
  }
  const baselines: Record<string, MetricValues> = {};
  for (const [b, m] of Object.entries(doc.baselines)) baselines[b] = flatten(m.test);
  const d = doc.dataset;
  return {
    name,
    label: [c.model, c.mode, central ? undefined : c.algorithm].filter((s) => typeof s === 'string').join(' '),
    dataset: `${d.name}: ${d.users} users, ${d.items} items, ${d.interactions} interactions, split ${d.split}`,
    unit: central ? 'epoch' : 'round',
    selectedRound: selectedRoundOf(doc),
    totalSeconds: doc.timing.totalSeconds,
    loss: doc.history.map((h) => ({ x: h.round, y: h.loss })),
    bytesUp: doc.history.map((h) => ({ x: h.round, y: h.bytesUp })),
    bytesDown: doc.history.map((h) => ({ x: h.round, y: h.bytesDown })),
    validation,
    test: flatten(doc.metrics.test),
    baselines,
  };
}

function firstK(runs: readonly NamedRun[]): number | null {
  for (const { doc } of runs) {
    const k = doc.config.k;
    if (Array.isArray(k) && typeof k[0] === 'number') return k[0];
  }
  for (const { doc } of runs) {
    for (const key of Object.keys(doc.metrics.test.sampled ?? doc.metrics.test.full ?? {})) {
      const m = /@(\d+)$/.exec(key);
      if (m) return Number(m[1]);
    }
  }
  return null;
}

function kOf(key: string): number {
  return Number(/@(\d+)$/.exec(key)?.[1] ?? 0);
}

export function reportData(runs: readonly NamedRun[], title = 'fedrec report', generatedAt = new Date()): ReportData {
  const series = runs.map(runSeries);
  const k = firstK(runs);
  const hasValue = (key: string) => series.some((r) => r.validation[key]?.some((p) => p.y !== null));
  const validationCharts: string[] = [];
  for (const p of ['sampled', 'full']) for (const m of ['NDCG', 'HR']) if (k !== null && hasValue(`${p} ${m}@${k}`)) validationCharts.push(`${p} ${m}@${k}`);
  for (const m of EXPLICIT) if (hasValue(`explicit ${m}`)) validationCharts.push(`explicit ${m}`);

  const testCharts: Record<string, string[]> = {};
  const keys = new Set<string>();
  for (const r of series) for (const key of [...Object.keys(r.test), ...Object.values(r.baselines).flatMap((b) => Object.keys(b))]) keys.add(key);
  for (const p of ['sampled', 'full']) {
    const ranked = [...keys].filter((key) => key.startsWith(`${p} `) && /^(HR|NDCG)@\d+$/.test(key.slice(p.length + 1)));
    ranked.sort((a, b) => kOf(a) - kOf(b) || (a.includes('HR@') ? -1 : 1));
    if (ranked.length > 0) testCharts[p] = ranked;
  }
  const explicit = EXPLICIT.map((m) => `explicit ${m}`).filter((key) => keys.has(key));
  if (explicit.length > 0) testCharts.explicit = explicit;

  const first = JSON.stringify(series[0]?.baselines ?? {});
  return {
    title,
    generatedAt: generatedAt.toISOString(),
    runs: series,
    validationCharts,
    testCharts,
    sharedBaselines: series.every((r) => JSON.stringify(r.baselines) === first),
  };
}
