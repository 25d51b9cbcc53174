/** The human-readable end-of-run summary: model vs baselines per split and protocol. */
import Table from 'cli-table3';
import type { ResultDocument, SplitMetrics } from '../report/result.js';

export function summaryTable(doc: ResultDocument): string {
  const c = doc.config as Record<string, unknown>;
  const head = `${doc.dataset.name}: ${doc.dataset.users} users, ${doc.dataset.items} items, ${doc.dataset.interactions} interactions, split ${doc.dataset.split}\n` +
    `${c.model} ${c.mode}${c.mode === 'federated' ? ` (${c.algorithm})` : ''}: ${doc.history.length} ${c.mode === 'federated' ? 'rounds' : 'epochs'}, ` +
    `${doc.timing.secondsPerRound.toFixed(3)} s each, ${doc.timing.totalSeconds.toFixed(1)} s total`;
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
  const plain = process.stdout.isTTY ? {} : { style: { head: [], border: [] } }; // no colour codes in pipes and files
  const table = new Table({ head: ['model', 'split', ...columns], ...plain });
  for (const r of rows) {
    table.push([r.name, r.split, ...columns.map((col) => {
      const [proto, k] = col.includes(' ') ? col.split(' ') : ['explicit', col];
      const v = (r.m as Record<string, Record<string, number> | undefined> | undefined)?.[proto]?.[k];
      return v === undefined ? '' : v.toFixed(4);
    })]);
  }
  return `${head}\n${table.toString()}`;
}
