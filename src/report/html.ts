/**
 * The HTML report of one or more runs (`fedrec report`, `fedrec train --report`): one self-contained
 * file — Chart.js, the page script and the data are inlined, and the page's Content-Security-Policy
 * forbids every network request, so it opens the same offline, from a mail attachment or a CI
 * artefact. Learning curves (loss and validation metrics per round/epoch, the selected round
 * marked), bytes up/down per round, test metrics against the popularity/random baselines; several
 * runs are overlaid. The numbers are in the page as JSON (`#fedrec-report-data`, report-data.ts).
 */
import { chartJsSource, inlineScriptSafe, jsonForScript, pageScriptSource } from './assets.js';
import { reportData, type NamedRun, type ReportData, type RunSeries } from './report-data.js';

/** No request of any kind leaves the page: scripts and styles are inline, images only data: URLs. */
export const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(4));

function runsTable(data: ReportData): string {
  const head = ['run', 'model', 'data', 'rounds / epochs', 'selected', 'time'];
  const rows = data.runs.map((r) => {
    const n = r.loss.length;
    return [r.name, r.label, r.dataset, `${n} ${r.unit}${n === 1 ? '' : 's'}`, `${r.unit} ${r.selectedRound}`, `${r.totalSeconds.toFixed(1)} s`];
  });
  return table(head, rows, 'runs');
}

function testTable(data: ReportData): string {
  const keys = Object.values(data.testCharts).flat();
  // MRR beside HR and NDCG (in the table only: the charts stay readable)
  const mrr = new Set<string>();
  for (const r of data.runs) for (const k of Object.keys(r.test)) if (/^(sampled|full) MRR@\d+$/.test(k)) mrr.add(k);
  const order = (key: string) => ['sampled', 'full', 'explicit'].indexOf(key.split(' ')[0]) * 1e6 + Number(/@(\d+)$/.exec(key)?.[1] ?? 0) * 10 + ['HR', 'NDCG', 'MRR'].findIndex((m) => key.includes(` ${m}@`));
  const columns = [...keys, ...mrr].sort((a, b) => order(a) - order(b));
  const rows: string[][] = [];
  const line = (name: string, m: Readonly<Record<string, number | null>>) => rows.push([name, ...columns.map((c) => fmt(m[c]))]);
  for (const r of data.runs) line(r.name, r.test);
  const baselineRuns: readonly RunSeries[] = data.sharedBaselines ? data.runs.slice(0, 1) : data.runs;
  for (const r of baselineRuns) for (const [b, m] of Object.entries(r.baselines)) line(data.sharedBaselines ? b : `${b} (${r.name})`, m);
  return table(['', ...columns], rows, 'test');
}

function table(head: readonly string[], rows: readonly string[][], id: string): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, k) => (k === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table id="table-${id}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function reportHtml(runs: readonly NamedRun[], opts: { title?: string; generatedAt?: Date } = {}): string {
  const data = reportData(runs, opts.title ?? (runs.length === 1 ? `fedrec report: ${runs[0].name}` : `fedrec report: ${runs.length} runs`), opts.generatedAt);
  const chart = inlineScriptSafe(chartJsSource());
  const page = inlineScriptSafe(pageScriptSource('report/page/report-page.js'));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fedrec">
<title>${escapeHtml(data.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; max-width: 78rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
  .note { color: #666; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(34rem, 1fr)); gap: 1.2rem; }
  figure { margin: 0; }
  figcaption { font-weight: 600; margin-bottom: .3rem; }
  .chart { position: relative; height: 18rem; }
  table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
  th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }
  th[scope=row], thead th:first-child { text-align: left; }
  .scroll { overflow-x: auto; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="note">Generated ${escapeHtml(data.generatedAt)} by fedrec. Test metrics are those of the selected ${data.runs.some((r) => r.unit === 'epoch') ? 'round or epoch' : 'round'} (chosen on validation; marked on the curves).</p>
<h2>Runs</h2>
<div class="scroll">${runsTable(data)}</div>
<h2>Learning curves</h2>
<div class="grid" id="curves"></div>
<h2>Bytes per round</h2>
<div class="grid" id="bytes"></div>
<h2>Test metrics against the baselines</h2>
<div class="grid" id="tests"></div>
<div class="scroll">${testTable(data)}</div>
<script type="application/json" id="fedrec-report-data">${jsonForScript(data)}</script>
<script>${chart}</script>
<script type="module">${page}</script>
</body>
</html>
`;
}
