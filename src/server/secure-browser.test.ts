/**
 * The browser client runs secure aggregation (Debian chromium, headless, playwright-core): the demo
 * page joins a secure coordinator together with two in-process Node participants; the round
 * aggregates, and the tab's request bodies are protocol messages only — never a plain update.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildBrowserBundle } from '../client/bundle.js';
import { readClientDataFile, writeClientFiles } from '../client/data-file.js';
import { HttpTransport } from '../client/http-transport.js';
import { toLocalData } from '../client/local-data.js';
import { Participant } from '../client/participant.js';
import { parseTrainConfig } from '../runtime/config.js';
import { loadConfiguredDataset, splitDataset } from '../runtime/experiment.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { ml100k, tempDir } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: ReturnType<typeof tempDir>;
let server: RunningCoordinator | null = null;
let browser: BrowserContext | null = null;
const training = () => {
  const data = ml100k();
  return { ...(data ? { data } : { syntheticItems: 600 }), rounds: 1, seed: 3, usersPerClient: 400 };
};

before(async () => {
  dir = tempDir('secure-browser');
  const bundlePath = join(dir.path, 'client.js');
  await buildBrowserBundle(bundlePath);
  const config = parseServerConfig({
    training: training(),
    coordinator: { minClients: 3, roundDeadlineSeconds: 120, bundlePath, secureAggregation: { threshold: 0.6, phaseSeconds: 60 } },
  });
  server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false });
});

after(async () => {
  await browser?.close();
  await server?.close();
  dir?.remove();
});

test('demo page: the tab runs a secure round with two Node clients; it posts protocol messages only', { timeout: 240_000, skip: !existsSync(CHROMIUM) && 'chromium is not installed (.ci/run installs it)' }, async () => {
  const s = server as RunningCoordinator;
  const nodeTokens = [(await issueToken(s.store, 'node-0')).token, (await issueToken(s.store, 'node-1')).token];
  const { token } = await issueToken(s.store, 'browser');
  const c = parseTrainConfig(training());
  const ds = await loadConfiguredDataset(c);
  const files = writeClientFiles(ds, splitDataset(ds, c.split, c.seed), c.usersPerClient, c.seed, join(dir.path, 'clients'));
  const nodes = await Promise.all(nodeTokens.map(async (t, k) => {
    const transport = new HttpTransport({ server: s.url, token: t });
    const catalogue = await transport.catalogue();
    return new Participant(transport, catalogue, toLocalData(readClientDataFile(files[k]).users, catalogue));
  }));
  const running = Promise.all(nodes.map((p) => p.run({ maxDurationMs: 200_000, retry: { baseMs: 50, maxMs: 500 } })));

  browser = await chromium.launchPersistentContext(join(dir.path, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const posts: string[] = [];
  page.on('request', (req) => {
    if (req.method() === 'POST') posts.push(new URL(req.url()).pathname);
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
  await page.click('#join');
  await page.waitForFunction(() => document.querySelectorAll('#recs li').length >= 5, undefined, { timeout: 200_000 });
  await running;
  assert.equal(JSON.parse(await s.store.getMeta('secure-round/1') as string).contributors, 3, 'the tab\'s masked input is in the sum');
  assert.deepEqual([...new Set(posts)].sort(), ['/v1/secagg/keys', '/v1/secagg/masked', '/v1/secagg/shares', '/v1/secagg/unmask']);
  assert.deepEqual(errors, []);
});
