/**
 * The operator dashboard against a running coordinator (real HTTP on 127.0.0.1, a real SQLite
 * file), in Debian chromium: without the operator token every dashboard route answers 401 (a
 * client token does not open it, nor does a browser without credentials); with it the page shows
 * round 1 in progress, follows the updates as clients answer (accepted, refused by reason, late
 * past the deadline), moves to model version 1 when the round closes, and draws the loss of the
 * closed round and the validation metrics the operator's evaluation reports — read back from the
 * page's Chart.js instances. No console error, no request leaves the coordinator, and the token
 * never appears in a URL or in the coordinator's log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import type { GlobalUpdate } from '../federated/types.js';
import { launchChromium, NO_CHROMIUM, watchedPage } from '../report/chromium.js';
import { encodeUpdate } from '../wire/messages.js';
import { parseServerConfig } from './config.js';
import type { DashboardState } from './dashboard-state.js';
import { Evaluations } from './evaluations.js';
import { issueOperatorToken } from './operator.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { tempDir, waitFor } from './testing.js';

const DIM = 8;
const DEADLINE_S = 2;
let dir: ReturnType<typeof tempDir>;
let server: RunningCoordinator;
let clients: string[];
let browser: Browser | null = null;
const logLines: string[] = [];

function update(round: number, over: Partial<GlobalUpdate> = {}): GlobalUpdate {
  const rows = Int32Array.from([0, 3, 7]);
  return {
    round,
    weight: 10,
    loss: 0.6,
    rows,
    itemTables: { itemEmb: new Float32Array(rows.length * DIM).fill(0.01), itemBias: new Float32Array(rows.length).fill(0.02) },
    denseTables: { globalBias: Float32Array.from([0.001]) },
    ...over,
  };
}

async function send(u: GlobalUpdate, token: string): Promise<number> {
  const res = await fetch(`${server.url}/v1/update`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` }, body: Buffer.from(encodeUpdate(u)) });
  await res.arrayBuffer();
  return res.status;
}

async function get(path: string, authorization?: string): Promise<{ status: number; headers: Headers; body: { error?: string; message?: string } }> {
  const res = await fetch(server.url + path, { headers: authorization ? { authorization } : {} });
  const text = await res.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // the page or a script
  }
  return { status: res.status, headers: res.headers, body };
}

async function postEvaluation(body: unknown, authorization: string): Promise<{ status: number; body: { error?: string; message?: string; accepted?: boolean } }> {
  const res = await fetch(`${server.url}/dashboard/evaluation`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
}

const basic = (token: string, user = 'operator') => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

before(async () => {
  dir = tempDir('dashboard');
  const config = parseServerConfig({
    training: { syntheticUsers: 30, syntheticItems: 120, syntheticInteractions: 900, dim: DIM, rounds: 3, seed: 7 },
    coordinator: { minClients: 2, roundDeadlineSeconds: DEADLINE_S, normBound: 50, normMode: 'reject', maxUpdateBytes: 64 * 1024, tickMs: 100 },
  });
  const stream = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false, logger: { level: 'info', stream } });
  clients = await Promise.all([0, 1].map(async () => (await issueToken(server.store)).token));
  await server.coordinator.tick();
  if (!NO_CHROMIUM) browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  dir?.remove();
});

test('no operator token issued yet, or a missing / wrong / client token: 401 on every dashboard route', async () => {
  const none = await get('/dashboard/state', 'Bearer fro_whatever');
  assert.equal(none.status, 401);
  assert.match(none.body.message ?? '', /no operator token has been issued.*fedrec token operator/);

  const operator = await issueOperatorToken(server.store);
  for (const path of ['/dashboard', '/dashboard/', '/dashboard/state', '/dashboard/app.js', '/dashboard/chart.js']) {
    const anonymous = await get(path);
    assert.equal(anonymous.status, 401, path);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="fedrec operator"/, 'a browser asks for the token');
    assert.match(anonymous.body.message ?? '', /operator token required/);
    assert.equal((await get(path, `Bearer ${clients[0]}`)).status, 401, `${path}: a client token is not an operator token`);
    assert.equal((await get(path, basic(clients[0]))).status, 401);
    assert.equal((await get(path, `Bearer ${operator}x`)).status, 401);
    assert.equal((await get(path, 'Basic ' + Buffer.from(`${operator}:`).toString('base64'))).status, 401, 'the token is the password, not the user name');
  }
  assert.equal((await get('/v1/round', `Bearer ${operator}`)).status, 401, 'an operator token is not a client token');
  assert.equal((await postEvaluation({ round: 0, metrics: { 'HR@10': 0.1 } }, 'Bearer nope')).status, 401);

  // a new operator token replaces the old one at once
  const next = await issueOperatorToken(server.store);
  assert.equal((await get('/dashboard/state', `Bearer ${operator}`)).status, 401);
  const ok = await get('/dashboard/state', `Bearer ${next}`);
  assert.equal(ok.status, 200);
  assert.equal((ok.body as unknown as DashboardState).round?.round, 1);
  const page = await get('/dashboard', basic(next, 'anyone'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
});

test('dashboard in chromium: round 1 in progress, updates, refusals, late clients, the round closing, operator metrics', { timeout: 120_000, skip: NO_CHROMIUM }, async () => {
  const operator = await issueOperatorToken(server.store);

  // a browser without the token gets 401 (and would show its login prompt)
  // (headless chromium cannot show the prompt: the navigation fails with invalid credentials)
  const anonymous = await watchedPage(browser as Browser);
  const statuses: number[] = [];
  anonymous.page.on('response', (r) => statuses.push(r.status()));
  const navigation = await anonymous.page.goto(`${server.url}/dashboard`).then((r) => `status ${r?.status()}`, (err: Error) => err.message);
  assert.match(navigation, /status 401|ERR_INVALID_AUTH_CREDENTIALS/);
  assert.deepEqual(statuses, [401]);
  await anonymous.page.context().close();

  const { page, errors, requests } = await watchedPage(browser as Browser, { httpCredentials: { username: 'operator', password: operator } });
  const response = await page.goto(`${server.url}/dashboard`);
  assert.equal(response?.status(), 200);
  const text = (id: string) => page.locator(`#${id}`).innerText();
  const until = (what: string, check: () => Promise<boolean>) => waitFor(what, async () => (await check()) || undefined, 20_000, 100);
  await until('round 1 on the page', async () => (await text('round')) === '1');
  assert.equal(await text('version'), '0');
  assert.equal(await text('selected'), '2 (every registered client)');
  assert.equal(await text('answered'), '0');

  // one client answers; another sends an update over the norm bound, then the first one again
  assert.equal(await send(update(1), clients[0]), 200);
  assert.equal(await send(update(1, { itemTables: { itemEmb: new Float32Array(3 * DIM).fill(100), itemBias: new Float32Array(3) } }), clients[1]), 422);
  assert.equal(await send(update(1), clients[0]), 409);
  await until('the answer and the refusals on the page', async () => (await text('answered')) === '1' && (await text('refused-total')) === '2');
  assert.equal(await text('accepted'), '1');
  assert.equal(await page.locator('#refused-table tr[data-reason="norm"] td.count').innerText(), '1');
  assert.equal(await page.locator('#refused-table tr[data-reason="duplicate"] td.count').innerText(), '1');
  const refusedChart = await page.evaluate(() => {
    const c = (window as unknown as { fedrecDashboard: { charts: Record<string, { data: { labels: unknown[]; datasets: { data: unknown[] }[] } }> } }).fedrecDashboard.charts.refused;
    return { labels: c.data.labels, data: c.data.datasets[0].data };
  });
  assert.deepEqual(Object.fromEntries(refusedChart.labels.map((l, k) => [l, refusedChart.data[k]])), { norm: 1, duplicate: 1 });

  // the deadline passes without a quorum of 2: the missing client is late, the round waits
  await until('the late client', async () => (await text('late')) === '1');
  assert.match(await text('deadline'), /waiting for a quorum of 2/);

  // the second client answers: round 1 closes, version 1, round 2 opens; the loss is drawn
  assert.equal(await send(update(1, { loss: 0.4 }), clients[1]), 200);
  await page.waitForSelector('body[data-version="1"]', { timeout: 20_000 });
  await until('round 2 on the page', async () => (await text('round')) === '2');
  assert.equal(await text('answered'), '0');
  const closed = (await server.store.closedRounds());
  assert.equal(closed.length, 1);
  const rounds = await page.evaluate(() => {
    const c = (window as unknown as { fedrecDashboard: { charts: Record<string, { data: { datasets: { data: unknown[] }[] } }> } }).fedrecDashboard.charts.rounds;
    return c.data.datasets.map((d) => d.data);
  });
  assert.deepEqual(rounds, [[{ x: 1, y: closed[0].loss }], [{ x: 1, y: 2 }]]);
  assert.ok(Math.abs(closed[0].loss - 0.5) < 1e-6, `mean client loss ${closed[0].loss}`);

  // the operator's evaluation of model version 1 is reported and drawn
  const reported = await postEvaluation({ round: 1, metrics: { 'HR@10': 0.42, 'NDCG@10': 0.21 } }, `Bearer ${operator}`);
  assert.equal(reported.status, 200, JSON.stringify(reported.body));
  const evaluation = await waitFor('the evaluation on the page', async () => {
    const sets = await page.evaluate(() => {
      const c = (window as unknown as { fedrecDashboard: { charts: Record<string, { data: { datasets: { label: string; data: unknown[] }[] } }> } }).fedrecDashboard.charts.evaluation;
      return c.data.datasets.map((d) => ({ label: d.label, data: d.data }));
    });
    return sets.length > 0 ? sets : undefined;
  }, 20_000);
  assert.deepEqual(evaluation, [
    { label: 'HR@10', data: [{ x: 1, y: 0.42 }] },
    { label: 'NDCG@10', data: [{ x: 1, y: 0.21 }] },
  ]);

  await page.context().close();
  assert.deepEqual(errors, []);
  assert.ok(requests.every((u) => u.startsWith(server.url)), `no request leaves the coordinator: ${requests.filter((u) => !u.startsWith(server.url)).join(', ')}`);
  assert.ok(requests.some((u) => u.endsWith('/dashboard/state')), 'the page polled its state');
  assert.ok(requests.every((u) => !u.includes(operator)), 'no token in any URL');
  const log = logLines.join('');
  assert.match(log, /request refused/, 'refused requests are logged');
  assert.ok(!log.includes(operator) && !log.includes(Buffer.from(`operator:${operator}`).toString('base64')), 'the token is never logged');
});

test('evaluation reports: Bearer only, checked, for a published model version', async () => {
  const operator = await issueOperatorToken(server.store);
  const bearer = `Bearer ${operator}`;
  const viaBrowser = await postEvaluation({ round: 1, metrics: { 'HR@10': 0.5 } }, basic(operator));
  assert.equal(viaBrowser.status, 401);
  assert.match(viaBrowser.body.message ?? '', /need Authorization: Bearer/);
  const before = ((await get('/dashboard/state', bearer)).body as unknown as DashboardState).evaluations;
  const cases: [unknown, number, RegExp][] = [
    [{ round: 1 }, 400, /metrics: /],
    [{ round: 1, metrics: {} }, 400, /expected 1 to 50 metrics/],
    [{ round: 1, metrics: { 'HR@10': 'high' } }, 400, /metrics\.HR@10: /],
    [{ round: -1, metrics: { 'HR@10': 0.1 } }, 400, /round: /],
    [{ round: 1, metrics: { 'HR@10': 0.1 }, extra: 1 }, 400, /extra/],
    [[1, 2], 400, /evaluation report: /],
    [{ round: 99, metrics: { 'HR@10': 0.1 } }, 409, /round 99, but the model is at version \d/],
  ];
  for (const [body, status, message] of cases) {
    const r = await postEvaluation(body, bearer);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(r.body.message ?? '', message, JSON.stringify(body));
  }
  const state = (await get('/dashboard/state', bearer)).body as unknown as DashboardState;
  assert.deepEqual(state.evaluations, before, 'refused reports left nothing');
  // a valid report is kept in the database: a restarted coordinator reads it back
  assert.equal((await postEvaluation({ round: 0, metrics: { 'HR@10': 0.1 } }, bearer)).status, 200);
  const after = ((await get('/dashboard/state', bearer)).body as unknown as DashboardState).evaluations;
  assert.deepEqual(after.find((e) => e.round === 0)?.metrics, { 'HR@10': 0.1 });
  assert.deepEqual(await new Evaluations(server.store).list(), after);
  assert.equal((await get('/healthz')).status, 200, 'the coordinator keeps serving');
});
