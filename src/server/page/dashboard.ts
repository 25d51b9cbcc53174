/**
 * The operator dashboard's script (runs in the browser, served as /dashboard/app.js after
 * Chart.js): polls /dashboard/state every 2 s (the browser sends the operator's Basic credentials)
 * and updates the figures and charts in place. `window.fedrecDashboard` holds the last state and
 * the Chart.js instances; `body[data-version]` and `body[data-polls]` follow each poll.
 */
import type { Chart as ChartClass } from 'chart.js';
import type { DashboardState } from '../dashboard-state.js';

declare const Chart: typeof ChartClass;

const POLL_MS = 2000;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const view: { state: DashboardState | null; charts: Record<string, ChartClass>; polls: number } = { state: null, charts: {}, polls: 0 };
(window as unknown as { fedrecDashboard: typeof view }).fedrecDashboard = view;

const canvas = (id: string) => document.querySelector(`canvas[data-chart="${id}"]`) as HTMLCanvasElement;
const set = (id: string, text: string | number) => {
  (document.getElementById(id) as HTMLElement).textContent = String(text);
};
const time = (ms: number) => new Date(ms).toLocaleTimeString();
const bytes = (n: number) => {
  const [div, unit] = n >= 1e9 ? [1e9, 'GB'] : n >= 1e6 ? [1e6, 'MB'] : n >= 1e3 ? [1e3, 'kB'] : [1, 'B'];
  return `${(n / div).toLocaleString('en', { maximumFractionDigits: 1 })} ${unit}`;
};
/** What each refusal reason means (server/app.ts, coordinator.ts, validate.ts). */
const REASONS: Record<string, string> = {
  unauthorized: 'missing or unknown client token',
  malformed: 'not a wire update message',
  'too-large': 'body over the size limit',
  'round-closed': 'late: its round had already closed',
  'not-selected': 'client not selected for the round',
  duplicate: 'second update of a client in a round',
  shape: 'wrong tables or sizes',
  index: 'item index out of range',
  'not-finite': 'NaN or infinite value',
  weight: 'weight out of range',
  norm: 'update norm over the bound',
};

view.charts.refused = new Chart(canvas('refused'), {
  type: 'bar',
  data: { labels: [], datasets: [{ label: 'refused updates', data: [], backgroundColor: '#d62728' }] },
  options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
});
view.charts.rounds = new Chart(canvas('rounds'), {
  type: 'line',
  data: {
    datasets: [
      { label: 'mean training loss', data: [], borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: 'y' },
      { label: 'clients', data: [], borderColor: '#999', backgroundColor: '#999', borderDash: [5, 3], yAxisID: 'clients' },
    ],
  },
  options: {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    scales: {
      x: { type: 'linear', title: { display: true, text: 'round' }, ticks: { precision: 0 } },
      y: { title: { display: true, text: 'loss' } },
      clients: { position: 'right', beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false }, title: { display: true, text: 'clients' } },
    },
  },
});
view.charts.evaluation = new Chart(canvas('evaluation'), {
  type: 'line',
  data: { datasets: [] },
  options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'model version (round)' }, ticks: { precision: 0 } } } },
});

function render(s: DashboardState): void {
  set('version', s.model.version);
  set('total-rounds', s.model.totalRounds);
  set('registered', s.registeredClients);
  set('status', s.model.done ? 'training finished' : s.round ? 'round open' : 'waiting for clients');
  const r = s.round;
  set('round', r ? r.round : s.model.done ? 'none (done)' : 'none');
  set('selected', r ? `${r.selected}${r.everyone ? ' (every registered client)' : ''}` : '–');
  set('answered', r ? r.answered : '–');
  set('pending', r ? r.pending : '–');
  set('late', r ? r.late : '–');
  set('deadline', r ? `${time(r.deadlineAt)}${r.extendedTo ? `, waiting for a quorum of ${r.quorum} until ${time(r.extendedTo)}` : ''}` : '–');
  set('accepted', s.updates.accepted);
  set('clipped', s.updates.clipped);
  const reasons = Object.entries(s.updates.refused).sort((a, b) => b[1] - a[1]);
  set('refused-total', reasons.reduce((n, [, v]) => n + v, 0));
  set('bytes', `${bytes(s.updates.bytesReceived)} / ${bytes(s.updates.bytesSent)}`);
  const tbody = document.querySelector('#refused-table tbody') as HTMLElement;
  tbody.replaceChildren(
    ...(reasons.length === 0 ? [['none', '']] : reasons).map(([reason, n]) => {
      const tr = document.createElement('tr');
      tr.dataset.reason = String(reason);
      const th = document.createElement('th');
      th.textContent = String(reason);
      const td = document.createElement('td');
      td.textContent = String(n);
      td.className = 'count';
      const what = document.createElement('td');
      what.className = 'note';
      what.textContent = REASONS[reason] ?? '';
      tr.append(th, td, what);
      return tr;
    }),
  );

  const refused = view.charts.refused;
  refused.data.labels = reasons.map(([reason]) => reason);
  refused.data.datasets[0].data = reasons.map(([, n]) => n);
  refused.update('none');

  const rounds = view.charts.rounds;
  rounds.data.datasets[0].data = s.history.map((h) => ({ x: h.round, y: h.loss }));
  rounds.data.datasets[1].data = s.history.map((h) => ({ x: h.round, y: h.clients }));
  rounds.update('none');

  const names = [...new Set(s.evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();
  const evaluation = view.charts.evaluation;
  evaluation.data.datasets = names.map((name, k) => ({
    label: name,
    data: s.evaluations.filter((e) => typeof e.metrics[name] === 'number').map((e) => ({ x: e.round, y: e.metrics[name] })),
    borderColor: PALETTE[k % PALETTE.length],
    backgroundColor: PALETTE[k % PALETTE.length],
  }));
  evaluation.update('none');
  set('evaluation-note', s.evaluations.length === 0 ? 'No evaluation reported yet: the operator\'s evaluation process posts them to /dashboard/evaluation (docs/deployment.md).' : '');
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('/dashboard/state', { cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      set('error', `the coordinator answered ${res.status}: ${body.message ?? res.statusText}`);
    } else {
      const state = (await res.json()) as DashboardState;
      view.state = state;
      render(state);
      set('updated', time(state.now));
      set('error', '');
      document.body.dataset.version = String(state.model.version);
    }
  } catch (err) {
    set('error', `the coordinator cannot be reached (${(err as Error).message}); retrying`);
  }
  view.polls++;
  document.body.dataset.polls = String(view.polls);
  setTimeout(poll, POLL_MS);
}

void poll();
