/**
 * The report page's script (runs in the browser; inlined into the page as an ES module after
 * Chart.js, which defines the global `Chart`). It draws the numbers of `#fedrec-report-data`
 * (report-data.ts) and computes none. `window.fedrecReport` holds the data and the Chart.js
 * instances, and `body[data-ready]` is set once every chart is drawn.
 */
import type { Chart as ChartClass, ChartConfiguration, ChartDataset, Plugin } from 'chart.js';
import type { Point, ReportData, RunSeries } from '../report-data.js';

declare const Chart: typeof ChartClass;

const data = JSON.parse((document.getElementById('fedrec-report-data') as HTMLElement).textContent as string) as ReportData;
const charts: Record<string, ChartClass> = {};
(window as unknown as { fedrecReport: unknown }).fedrecReport = { data, charts };

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
const BASELINE = ['#9a9a9a', '#c8c8c8', '#6d6d6d', '#b0b0b0'];
const color = (k: number) => PALETTE[k % PALETTE.length];
const unitOf = (runs: readonly RunSeries[]) => (runs.every((r) => r.unit === 'epoch') ? 'epoch' : runs.every((r) => r.unit === 'round') ? 'round' : 'round / epoch');

/** Dashed vertical lines at each run's selected round, in the run's colour. */
function selectedLines(marks: readonly { x: number; color: string }[]): Plugin<'line'> {
  return {
    id: 'selectedRounds',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      for (const m of marks) {
        const x = scales.x.getPixelForValue(m.x);
        if (x < chartArea.left || x > chartArea.right) continue;
        ctx.strokeStyle = m.color;
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

function figure(parent: string, id: string, caption: string): HTMLCanvasElement {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  const box = document.createElement('div');
  box.className = 'chart';
  const canvas = document.createElement('canvas');
  canvas.dataset.chart = id;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', caption);
  box.append(canvas);
  fig.append(cap, box);
  (document.getElementById(parent) as HTMLElement).append(fig);
  return canvas;
}

function note(parent: string, text: string): void {
  const p = document.createElement('p');
  p.className = 'note';
  p.textContent = text;
  (document.getElementById(parent) as HTMLElement).append(p);
}

const plain = (points: readonly Point[]) => points.map((p) => ({ x: p.x, y: p.y }));

/** One line per run; each run's selected round marked by a point (a dataset of its own) and a dashed line. */
function curveChart(parent: string, id: string, caption: string, yTitle: string, seriesOf: (r: RunSeries) => readonly Point[] | undefined): void {
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  const marks: { x: number; color: string }[] = [];
  data.runs.forEach((r, k) => {
    const points = seriesOf(r);
    if (!points || points.length === 0) return;
    datasets.push({ label: r.name, data: plain(points), borderColor: color(k), backgroundColor: color(k), pointRadius: points.length > 60 ? 0 : 2, borderWidth: 2, spanGaps: true });
    const at = points.find((p) => p.x === r.selectedRound);
    marks.push({ x: r.selectedRound, color: color(k) });
    if (at && at.y !== null) {
      datasets.push({ label: `${r.name}: selected ${r.unit} ${r.selectedRound}`, data: [{ x: at.x, y: at.y }], borderColor: color(k), backgroundColor: '#fff', pointStyle: 'rectRot', pointRadius: 7, pointBorderWidth: 2, showLine: false });
    }
  });
  if (datasets.length === 0) return;
  const config: ChartConfiguration<'line', { x: number; y: number | null }[]> = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: unitOf(data.runs) }, ticks: { precision: 0 } },
        y: { title: { display: true, text: yTitle } },
      },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
    plugins: [selectedLines(marks)],
  };
  charts[id] = new Chart(figure(parent, id, caption), config);
}

function bytesChart(): void {
  const federated = data.runs.map((r, k) => ({ r, k })).filter(({ r }) => r.bytesUp.some((p) => (p.y ?? 0) > 0) || r.bytesDown.some((p) => (p.y ?? 0) > 0));
  if (federated.length === 0) {
    note('bytes', 'No run sent anything over a network (centralised training).');
    return;
  }
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  for (const { r, k } of federated) {
    datasets.push({ label: `${r.name}: down`, data: plain(r.bytesDown), borderColor: color(k), backgroundColor: color(k), borderWidth: 2, pointRadius: 2 });
    datasets.push({ label: `${r.name}: up`, data: plain(r.bytesUp), borderColor: color(k), backgroundColor: color(k), borderWidth: 2, pointRadius: 2, borderDash: [6, 3] });
  }
  const mb = (v: number | string) => `${(Number(v) / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })} MB`;
  charts.bytes = new Chart(figure('bytes', 'bytes', 'Bytes per round: model down (solid) and updates up (dashed), all clients'), {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: { x: { type: 'linear', title: { display: true, text: 'round' }, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { callback: mb }, title: { display: true, text: 'bytes' } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${mb(c.parsed.y ?? 0)}` } } },
    },
  });
  const centralOnly = data.runs.filter((r) => !federated.some((f) => f.r === r));
  if (centralOnly.length > 0) note('bytes', `Centralised (nothing sent): ${centralOnly.map((r) => r.name).join(', ')}.`);
}

function testChart(protocol: string, keys: readonly string[]): void {
  const labels = keys.map((k) => k.slice(protocol.length + 1));
  const datasets: ChartDataset<'bar', (number | null)[]>[] = data.runs.map((r, k) => ({ label: r.name, data: keys.map((key) => r.test[key] ?? null), backgroundColor: color(k) }));
  const owners = data.sharedBaselines ? data.runs.slice(0, 1) : data.runs;
  let b = 0;
  for (const r of owners) {
    for (const [name, m] of Object.entries(r.baselines)) {
      if (!keys.some((key) => typeof m[key] === 'number')) continue;
      datasets.push({ label: data.sharedBaselines ? name : `${name} (${r.name})`, data: keys.map((key) => m[key] ?? null), backgroundColor: BASELINE[b++ % BASELINE.length] });
    }
  }
  const caption = protocol === 'explicit' ? 'Test rating metrics (RMSE, MAE: lower is better)' : `Test, ${protocol} ranking${protocol === 'sampled' ? ' (held-out item among sampled negatives)' : ' (every item)'}`;
  charts[`test:${protocol}`] = new Chart(figure('tests', `test:${protocol}`, caption), {
    type: 'bar',
    data: { labels, datasets },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } }, plugins: { legend: { labels: { boxWidth: 12 } } } },
  });
}

const unit = unitOf(data.runs);
curveChart('curves', 'loss', `Training loss per ${unit}`, 'loss', (r) => r.loss.filter((p) => p.y !== null));
for (const key of data.validationCharts) {
  curveChart('curves', `validation:${key}`, `Validation ${key}`, key.split(' ')[1], (r) => r.validation[key]?.filter((p) => p.y !== null));
}
if (data.validationCharts.length === 0) note('curves', 'No validation metrics in the history (raise --eval-every or lower --rounds to see them).');
bytesChart();
for (const [protocol, keys] of Object.entries(data.testCharts)) testChart(protocol, keys);
document.body.dataset.ready = 'true';
