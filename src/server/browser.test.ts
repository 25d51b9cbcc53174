/**
 * The browser client in Debian chromium (headless, driven by playwright-core): the demo page served
 * by the coordinator takes a token, lets a person rate movies (kept in IndexedDB), joins training,
 * completes a round in the tab and shows recommendations computed there. Ratings never reach the
 * coordinator: every request body the page sends is checked to be a binary update message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildBrowserBundle } from '../client/bundle.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { ml100k, tempDir } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: ReturnType<typeof tempDir>;
let server: RunningCoordinator | null = null;
let browser: BrowserContext | null = null;

before(async () => {
  dir = tempDir('browser');
  const bundlePath = join(dir.path, 'client.js');
  await buildBrowserBundle(bundlePath);
  const data = ml100k();
  const config = parseServerConfig({
    training: { ...(data ? { data } : { syntheticItems: 600 }), rounds: 2, seed: 3 },
    coordinator: { minClients: 1, roundDeadlineSeconds: 120, bundlePath },
  });
  server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false });
});

after(async () => {
  await browser?.close();
  await server?.close();
  dir?.remove();
});

test('demo page: rate movies, join, finish a round in the tab, show recommendations', { timeout: 180_000, skip: !existsSync(CHROMIUM) && 'chromium is not installed (.ci/run installs it)' }, async () => {
  const s = server as RunningCoordinator;
  const { token } = await issueToken(s.store, 'browser');
  const page = await (await theBrowser()).newPage();
  const bodies: { url: string; type: string | undefined; first: number[] }[] = [];
  const foreign: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(s.url)) foreign.push(req.url());
    const body = req.postDataBuffer();
    if (body) bodies.push({ url: req.url(), type: req.headers()['content-type'], first: [...body.subarray(0, 4)] });
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(s.url + '/');
  await page.fill('#token', token);
  await page.click('#connect');
  await page.waitForSelector('.movie', { timeout: 30_000 });
  const movies = page.locator('.movie');
  for (let k = 0; k < 6; k++) await movies.nth(k).locator('button[data-rating="5"]').click();
  await page.waitForFunction(() => document.getElementById('rated-count')?.textContent === '6', undefined, { timeout: 10_000 });
  const stored = await page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('fedrec-demo');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('ratings').objectStore('ratings').count();
          req.onsuccess = () => resolve(req.result);
        };
      }),
  );
  assert.equal(stored, 6, 'the ratings are in IndexedDB');
  await page.click('#join');
  await page.waitForFunction(() => document.querySelectorAll('#recs li').length >= 5, undefined, { timeout: 120_000 });
  const recs = await page.locator('#recs li').allTextContents();
  assert.ok(recs.length >= 5 && recs.every((t) => t.length > 0), `recommendations: ${recs.join(' | ')}`);
  const health = (await (await fetch(`${s.url}/healthz`)).json()) as { completedRounds: number };
  assert.ok(health.completedRounds >= 1, 'the tab completed at least one round');
  assert.ok(bodies.length >= 1, 'the tab sent its update');
  for (const b of bodies) {
    assert.ok(b.url.endsWith('/v1/update'), `only updates are posted, got ${b.url}`);
    assert.equal(b.type, 'application/octet-stream');
    assert.deepEqual(b.first, [0x46, 0x52, 0x57, 1], 'a binary wire message, not the ratings');
  }
  assert.deepEqual(foreign, [], 'no request leaves the coordinator');
  assert.deepEqual(errors, []);
});

/** The one browser context of this file (a fresh profile folder per run: the --user-data-dir of the launch). */
async function theBrowser(): Promise<BrowserContext> {
  browser ??= await chromium.launchPersistentContext(join(dir.path, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

interface GraphTab {
  /** Training section of the coordinator's config (algorithm 'graph'). */
  readonly training: Record<string, unknown>;
  readonly name: string;
  readonly rating: string;
  /** The user's description, typed into the page (text-graph). */
  readonly about?: string;
  /** Width of a personal row: d for text-graph, d + 1 for MF ([q_i, b_i]). */
  readonly rowWidth: number;
  /** Checks on the page after the run. */
  readonly onPage?: (page: Page) => Promise<void>;
}

/**
 * A tab joins a graph-aggregation coordinator: it trains rounds, recommends, posts only updates, and
 * the coordinator holds personal rows for its user, which only its upload can have made.
 */
async function graphTabRun(t: GraphTab): Promise<void> {
  const data = ml100k();
  const coordinator = await startCoordinator({
    config: parseServerConfig({
      training: { ...(data ? { data } : { syntheticItems: 600 }), ...t.training, rounds: 2, seed: 3 },
      coordinator: { minClients: 1, roundDeadlineSeconds: 120, bundlePath: join(dir.path, 'client.js') },
    }),
    dbPath: join(dir.path, `${t.name}.db`), port: 0, buildBundle: false,
  });
  try {
    const { token } = await issueToken(coordinator.store, t.name);
    const page = await (await theBrowser()).newPage();
    const posted: string[] = [];
    page.on('request', (req) => {
      if (req.postDataBuffer()) posted.push(req.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(coordinator.url + '/');
    await page.fill('#token', token);
    await page.click('#connect');
    await page.waitForSelector('.movie', { timeout: 30_000 });
    const movies = page.locator('.movie');
    for (let k = 0; k < 6; k++) await movies.nth(k).locator(`button[data-rating="${t.rating}"]`).click();
    if (t.about !== undefined) await page.fill('#about', t.about);
    await page.click('#join');
    await page.waitForFunction(() => document.querySelectorAll('#recs li').length >= 5, undefined, { timeout: 120_000 });
    const recs = await page.locator('#recs li').allTextContents();
    assert.ok(recs.length >= 5 && recs.every((r) => r.length > 0), `recommendations: ${recs.join(' | ')}`);
    const health = (await (await fetch(`${coordinator.url}/healthz`)).json()) as { completedRounds: number };
    assert.ok(health.completedRounds >= 1, `the tab completed at least one round (${t.name})`);
    const personal = await fetch(`${coordinator.url}/v1/personal`, { headers: { authorization: `Bearer ${token}` } });
    const { decodePersonal } = await import('../algorithms/graph-device.js');
    const rows = decodePersonal(new Uint8Array(await personal.arrayBuffer()), t.rowWidth).get(0);
    assert.ok(rows && rows.rows.length >= 6, 'the tab user has personal rows (its rated movies and sampled negatives)');
    assert.ok(posted.length >= 1 && posted.every((u) => u.endsWith('/v1/update')), `only updates are posted: ${posted.join(', ')}`);
    await t.onPage?.(page);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await coordinator.close();
  }
}

test('demo page, text-graph with graph aggregation: the tab encodes its description (hashing encoder), trains rounds, gets its personal rows and recommends', { timeout: 180_000, skip: !existsSync(CHROMIUM) && 'chromium is not installed (.ci/run installs it)' }, async () => {
  await graphTabRun({
    training: { model: 'text-graph', algorithm: 'graph', encoder: 'hash', dim: 8, layers: [8] },
    name: 'browser-text-graph',
    rating: '4',
    about: 'A 31-year-old female librarian from the Pacific coast of the US.',
    rowWidth: 8,
    onPage: async (page) => assert.ok((await page.content()).includes('never sent')),
  });
});

test('demo page, MF with graph aggregation: the tab trains rounds from its personal table, its rows reach the coordinator, it recommends', { timeout: 180_000, skip: !existsSync(CHROMIUM) && 'chromium is not installed (.ci/run installs it)' }, async () => {
  await graphTabRun({ training: { model: 'mf', algorithm: 'graph', dim: 8 }, name: 'browser-mf-graph', rating: '5', rowWidth: 9 });
});
