/**
 * The browser client runs secure aggregation (Debian chromium, headless, playwright-core): the demo
 * page joins a secure coordinator together with two in-process Node participants; the round
 * aggregates with the tab's masked input in the sum, and the tab's request bodies are protocol
 * messages only — never a plain update. The same with distributed DP (privacy/secure-dp.ts; CSPRNG
 * noise, the coordinator's default): the tab's noised, masked input is in the sum and /metrics
 * reports ε charged at z·√τ.
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
import { parseTrainConfig } from '../config/config.js';
import { loadConfiguredDataset, splitDataset } from '../recipes/experiment.js';
import { epsilonOf } from '../privacy/rdp-accountant.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { ml100k, tempDir } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = !existsSync(CHROMIUM) && 'chromium is not installed (.ci/run installs it)';
let dir: ReturnType<typeof tempDir>;
let bundlePath: string;
const servers: RunningCoordinator[] = [];
const browsers: BrowserContext[] = [];
const PLAIN = { rounds: 1, seed: 3, usersPerClient: 400 };
const DP = { ...PLAIN, dpClip: 0.5, dpNoiseMultiplier: 1, dpMode: 'distributed', dpDelta: 1e-3, fraction: 1 };
const training = (extra: Record<string, unknown>) => {
  const data = ml100k();
  return { ...(data ? { data } : { syntheticItems: 600 }), ...extra };
};

before(async () => {
  dir = tempDir('secure-browser');
  bundlePath = join(dir.path, 'client.js');
  await buildBrowserBundle(bundlePath);
});

after(async () => {
  for (const b of browsers) await b.close();
  for (const s of servers) await s.close();
  dir?.remove();
});

/**
 * A secure coordinator for `extra`'s training, two in-process Node participants and the demo page
 * in a tab that rates six movies and joins: resolves when the round is done, with the paths the
 * tab POSTed and its page errors.
 */
async function tabInSecureRound(name: string, extra: Record<string, unknown>) {
  const config = parseServerConfig({
    training: training(extra),
    coordinator: { minClients: 3, roundDeadlineSeconds: 120, bundlePath, secureAggregation: { threshold: 0.6, phaseSeconds: 60 } },
  });
  const s = await startCoordinator({ config, dbPath: join(dir.path, `${name}.db`), port: 0, buildBundle: false });
  servers.push(s);
  const nodeTokens = [(await issueToken(s.store, 'node-0')).token, (await issueToken(s.store, 'node-1')).token];
  const { token } = await issueToken(s.store, 'browser');
  const c = parseTrainConfig(training(extra));
  const ds = await loadConfiguredDataset(c);
  const files = writeClientFiles(ds, splitDataset(ds, c.split, c.seed), c.usersPerClient, c.seed, join(dir.path, `${name}-clients`));
  const nodes = await Promise.all(nodeTokens.map(async (t, k) => {
    const transport = new HttpTransport({ server: s.url, token: t });
    const catalogue = await transport.catalogue();
    return new Participant(transport, catalogue, toLocalData(readClientDataFile(files[k]).users, catalogue));
  }));
  const running = Promise.all(nodes.map((p) => p.run({ maxDurationMs: 200_000, retry: { baseMs: 50, maxMs: 500 } })));

  const browser = await chromium.launchPersistentContext(join(dir.path, `${name}-profile`), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  browsers.push(browser);
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
  return { server: s, posts, errors };
}

const PROTOCOL_POSTS = ['/v1/secagg/keys', '/v1/secagg/masked', '/v1/secagg/shares', '/v1/secagg/unmask'];

test('demo page: the tab runs a secure round with two Node clients; it posts protocol messages only', { timeout: 240_000, skip: SKIP }, async () => {
  const { server: s, posts, errors } = await tabInSecureRound('plain', PLAIN);
  assert.equal(JSON.parse(await s.store.getMeta('secure-round/1') as string).contributors, 3, 'the tab\'s masked input is in the sum');
  assert.deepEqual([...new Set(posts)].sort(), PROTOCOL_POSTS);
  assert.deepEqual(errors, []);
});

test('demo page: the tab runs a secure round with distributed DP beside two Node clients; it posts protocol messages only', { timeout: 240_000, skip: SKIP }, async () => {
  const { server: s, posts, errors } = await tabInSecureRound('dp', DP);
  assert.equal(JSON.parse(await s.store.getMeta('secure-round/1') as string).contributors, 3, 'the tab\'s masked input is in the sum');
  assert.deepEqual([...new Set(posts)].sort(), PROTOCOL_POSTS);
  assert.deepEqual(errors, []);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const spent = Number(/^fedrec_dp_epsilon_spent ([\d.e+-]+)$/m.exec(metrics)?.[1]);
  const expected = epsilonOf({ samplingRate: 1, noiseMultiplier: Math.sqrt(0.6), rounds: 1, delta: 1e-3 }).epsilon;
  assert.ok(Math.abs(spent - expected) < 1e-9 * expected, `/metrics ε ${spent} vs ${expected}`);
});
