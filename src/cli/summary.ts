/**
 * The human-readable end-of-run summary: model vs baselines. By default narrow (HR and NDCG at the
 * first K of the main protocol, test and validation, about 70 columns); `full` lists every split,
 * protocol and K.
 */
import Table from 'cli-table3';
import type { ResultDocument, SplitMetrics } from '../report/result.js';

export interface SummaryOptions {
  /** Every protocol and K (default: HR/NDCG at the first K). */
  readonly full?: boolean;
}

export function summaryTable(doc: ResultDocument, opts: SummaryOptions = {}): string {
  const c = doc.config as Record<string, unknown>;
  const unit = c.mode === 'federated' ? 'round' : 'epoch';
  const head = `${doc.dataset.name}: ${doc.dataset.users} users, ${doc.dataset.items} items, ${doc.dataset.interactions} interactions, split ${doc.dataset.split}\n` +
    `${c.model} ${c.mode}${c.mode === 'federated' ? ` (${c.algorithm})` : ''}: ${doc.history.length} ${unit}${doc.history.length === 1 ? '' : 's'}, ` +
    `${doc.timing.secondsPerRound.toFixed(3)} s each, ${doc.timing.totalSeconds.toFixed(1)} s total; ` +
    `metrics of ${unit} ${doc.selectedRound}${c.select === 'best' ? ' (best validation)' : ''}`;
  return `${head}\n${opts.full ? fullTable(doc) : narrowTable(doc)}`;
}

const plain = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } }); // no colour codes in pipes and files

/** One row per scorer: test and validation HR/NDCG at the first K of the main protocol (or RMSE / accuracy). */
function narrowTable(doc: ResultDocument): string {
  const k = ((doc.config as { k?: number[] }).k ?? [10])[0];
  const scorers: [string, { test?: SplitMetrics; validation?: SplitMetrics }][] = [
    [String((doc.config as { model?: string }).model), doc.metrics],
    ...Object.entries(doc.baselines),
  ];
  const explicit = doc.metrics.test.explicit !== undefined;
  const proto = doc.metrics.test.sampled ? 'sampled' : 'full';
  const cols: [string, (m: SplitMetrics | undefined) => number | undefined][] = explicit
    ? [['RMSE', (m) => m?.explicit?.rmse], ['accuracy', (m) => m?.explicit?.ratingAccuracy]]
    : [[`HR@${k}`, (m) => m?.[proto]?.[`HR@${k}`]], [`NDCG@${k}`, (m) => m?.[proto]?.[`NDCG@${k}`]]];
  const table = new Table({ head: [explicit ? '' : proto, ...cols.map(([n]) => `test ${n}`), ...cols.map(([n]) => `val ${n}`)], ...plain() });
  for (const [name, m] of scorers) {
    const cell = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
    table.push([name, ...cols.map(([, f]) => cell(f(m.test))), ...cols.map(([, f]) => cell(f(m.validation)))]);
  }
  return `${table.toString()}\n(--full-table: every protocol and K; --json or --out: the whole result)`;
}

function fullTable(doc: ResultDocument): string {
  const c = doc.config as Record<string, unknown>;
  const rows: { name: string; split: string; m: SplitMetrics | undefined }[] = [];
  for (const part of ['test', 'validation'] as const) {
    rows.push({ name: String(c.model), split: part, m: doc.metrics[part] });
    for (const [name, b] of Object.entries(doc.baselines)) rows.push({ name, split: part, m: b[part] });
  }
  const keys = new Set<string>();
  const columns: string[] = [];
  for (const r of rows) {
    for (const proto of ['sampled', 'full'] as const) {
      for (const k of Object.keys(r.m?.[proto] ?? {})) {
        if (!/^(HR|NDCG)@/.test(k)) continue;
        const col = `${proto} ${k}`;
        if (!keys.has(col)) {
          keys.add(col);
          columns.push(col);
        }
      }
    }
    if (r.m?.explicit) for (const k of ['rmse', 'mae', 'ratingAccuracy']) if (!keys.has(k)) { keys.add(k); columns.push(k); }
  }
  const table = new Table({ head: ['model', 'split', ...columns], ...plain() });
  for (const r of rows) {
    table.push([r.name, r.split, ...columns.map((col) => {
      const [proto, k] = col.includes(' ') ? col.split(' ') : ['explicit', col];
      const v = (r.m as Record<string, Record<string, number> | undefined> | undefined)?.[proto]?.[k];
      return v === undefined ? '' : v.toFixed(4);
    })]);
  }
  return table.toString();
}
