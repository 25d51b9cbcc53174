/**
 * The coordinator against a hostile network and hostile operators' mistakes (issue 19), real HTTP
 * on 127.0.0.1 and real SQLite files: an idle-socket flood leaves /healthz answering; idle sockets
 * are closed; per-token rate limit; TLS with a certificate made by openssl in the test; security
 * headers and CORS; revoked and expired tokens refused at their next request; a JSON-typed update
 * refused 415; a stuck quorum aborted after its extensions; a damaged database, a taken port and an
 * unservable algorithm end `fedrec serve` with one clear line and exit code 2.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, encodeUpdate } from '../wire/messages.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { SqliteStore } from './sqlite-store.js';
import { issueToken } from './tokens.js';
import { Children, sleep, tempDir, waitFor, writeJson } from './testing.js';

const TRAINING = { syntheticUsers: 30, syntheticItems: 120, syntheticInteractions: 900, dim: 8, rounds: 5, seed: 7 };
const dirs: ReturnType<typeof tempDir>[] = [];
const servers: RunningCoordinator[] = [];
const children = new Children();
after(async () => {
  children.killAll();
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

async function start(coordinator: Record<string, unknown>, extra: { tlsCert?: string; tlsKey?: string } = {}): Promise<RunningCoordinator> {
  const dir = tempDir('hostile');
  dirs.push(dir);
  const config = parseServerConfig({ training: TRAINING, coordinator: { minClients: 3, roundDeadlineSeconds: 600, ...coordinator } });
  const s = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false, ...extra });
  servers.push(s);
  return s;
}

const get = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });

async function metric(url: string, name: string): Promise<number> {
  const text = await (await get(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

test('3000 idle sockets against a cap of 200 connections: /healthz still answers and the flood is evicted', { timeout: 60_000 }, async () => {
  const s = await start({ maxConnections: 200 });
  const port = new URL(s.url).port;
  const sockets: Socket[] = [];
  try {
    for (let k = 0; k < 3000; k++) {
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined);
      sockets.push(sock);
      if (k % 500 === 499) await sleep(20);
    }
    await waitFor('the flood to connect', () => sockets.filter((x) => x.readyState === 'open' || x.destroyed).length >= 2900 || undefined, 20_000, 50);
    const res = await get(`${s.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
    const evicted = await metric(s.url, 'fedrec_connections_evicted_total');
    const open = await metric(s.url, 'fedrec_connections_open');
    assert.ok(evicted >= 1000 && open <= 201, `evicted ${evicted}, open ${open}`);
  } finally {
    for (const x of sockets) x.destroy();
  }
});

test('an idle socket is closed after idleTimeoutSeconds; a slow header after headersTimeoutSeconds', { timeout: 30_000 }, async () => {
  const s = await start({ idleTimeoutSeconds: 0.5, headersTimeoutSeconds: 1 });
  const port = Number(new URL(s.url).port);
  const idle = connect(port, '127.0.0.1');
  const slow = connect(port, '127.0.0.1');
  slow.on('connect', () => slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
  const closed = (sock: Socket) => new Promise<void>((r) => (sock.on('close', () => r()), sock.on('error', () => undefined)));
  await Promise.all([closed(idle), closed(slow)]);
});

test('per-token rate limit: the 6th request within a minute gets 429; another token is unaffected', async () => {
  const s = await start({ rateLimitPerMinute: 5 });
  const [a, b] = [(await issueToken(s.store)).token, (await issueToken(s.store)).token];
  for (let k = 0; k < 5; k++) assert.equal((await get(`${s.url}/v1/round`, a)).status, 200);
  const limited = await get(`${s.url}/v1/round`, a);
  assert.equal(limited.status, 429);
  assert.match(((await limited.json()) as { message: string }).message, /more than 5 requests per minute/);
  assert.equal((await get(`${s.url}/v1/round`, b)).status, 200);
  assert.equal((await get(`${s.url}/healthz`)).status, 200);
});

test('TLS with a self-signed certificate made by openssl: /healthz over https', { timeout: 30_000 }, async () => {
  const dir = tempDir('tls');
  dirs.push(dir);
  const cert = join(dir.path, 'cert.pem');
  const key = join(dir.path, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const s = await start({}, { tlsCert: cert, tlsKey: key });
  assert.match(s.url, /^https:\/\//);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${s.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal((JSON.parse(body) as { ok: boolean }).ok, true);
  // plain http to the TLS port is not served
  await assert.rejects(get(`${s.url.replace('https', 'http')}/healthz`));
});

test('security headers, the demo page CSP, CORS for configured origins only, preflight answered', async () => {
  const s = await start({ corsOrigins: ['https://app.example'] });
  const page = await get(`${s.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self' 'wasm-unsafe-eval'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(page.headers.get('x-frame-options'));
  const pre = await fetch(`${s.url}/v1/update`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  const other = await fetch(`${s.url}/healthz`, { headers: { origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('a revoked token gets 401 at its very next request; an expired token too; JSON with a binary body → 415', async () => {
  const s = await start({});
  const { token, client } = await issueToken(s.store);
  assert.equal((await get(`${s.url}/v1/round`, token)).status, 200);
  // revoked by another connection, as `fedrec token revoke` does
  const dbPath = (s.store as unknown as { db: { name: string } }).db.name;
  const other = new SqliteStore(dbPath);
  assert.equal(await other.revokeClient(client.id), true);
  other.closeNow();
  const refused = await get(`${s.url}/v1/round`, token);
  assert.equal(refused.status, 401);
  assert.match(((await refused.json()) as { message: string }).message, /revoked or expired/);
  const expired = (await issueToken(s.store, '', Date.now() - 1)).token;
  assert.equal((await get(`${s.url}/v1/round`, expired)).status, 401);
  const live = (await issueToken(s.store)).token;
  const body = encodeUpdate({ round: 1, weight: 1, loss: 0, rows: new Int32Array(0), itemTables: {}, denseTables: {} });
  const res = await fetch(`${s.url}/v1/update`, { method: 'POST', headers: { authorization: `Bearer ${live}`, 'content-type': 'application/json' }, body: body as unknown as BodyInit });
  assert.equal(res.status, 415);
  assert.equal(((await res.json()) as { error: string }).error, 'unsupported-media-type');
});

test('a quorum one short: each extension is counted in /metrics, and after maxDeadlineExtensions the round aborts with the model unchanged', { timeout: 30_000 }, async () => {
  const s = await start({ minClients: 2, clientsPerRound: 2, roundDeadlineSeconds: 0.3, maxDeadlineExtensions: 2, tickMs: 50 });
  await issueToken(s.store);
  await issueToken(s.store);
  await s.coordinator.tick();
  const before = decodeModel(s.coordinator.model().bytes).global;
  await waitFor('an extension', async () => (await metric(s.url, 'fedrec_round_deadline_extensions')) >= 1 || undefined, 10_000, 50);
  await waitFor('the abort', async () => (await metric(s.url, 'fedrec_rounds_aborted_total')) >= 1 || undefined, 10_000, 50);
  const round = (await s.store.closedRounds())[0];
  assert.equal(round.round, 1);
  assert.equal(round.clients, 0);
  assert.deepEqual(decodeModel(s.coordinator.model().bytes).global, before);
  assert.ok(s.coordinator.status().completedRounds >= 1);
});

test('fedrec serve: damaged database, port in use, unservable algorithm → one clear line, exit 2, no stack trace', { timeout: 120_000 }, async () => {
  const dir = tempDir('serve-errors');
  dirs.push(dir);
  const config = writeJson(join(dir.path, 'config.json'), { training: TRAINING, coordinator: { minClients: 1 } });
  const db = join(dir.path, 'c.db');
  const store = new SqliteStore(db);
  for (let k = 0; k < 200; k++) await issueToken(store, 'x'.repeat(200));
  store.closeNow();
  truncateSync(db, Math.floor(statSync(db).size / 2));
  writeFileSync(join(dir.path, 'junk.db'), 'not a database at all, '.repeat(400));
  const expectOneLine = async (args: string[], pattern: RegExp) => {
    const child = children.spawn(args);
    const code = await child.exited;
    const err = child.stderr().trim();
    assert.equal(code, 2, err);
    assert.equal(err.split('\n').length, 1, err);
    assert.match(err, pattern);
    assert.doesNotMatch(err, /\n\s+at /);
  };
  await expectOneLine(['serve', '--config', config, '--db', db, '--port', '0'], /damaged or not a fedrec database/);
  await expectOneLine(['serve', '--config', config, '--db', join(dir.path, 'junk.db'), '--port', '0'], /damaged or not a fedrec database/);
  const graph = writeJson(join(dir.path, 'graph.json'), { training: { ...TRAINING, model: 'text-graph', algorithm: 'graph', encoder: 'hash' }, coordinator: {} });
  await expectOneLine(['serve', '--config', graph, '--db', join(dir.path, 'g.db'), '--port', '0'], /algorithm 'graph' cannot be served/);
  const s = await start({});
  await expectOneLine(['serve', '--config', config, '--db', join(dir.path, 'p.db'), '--port', new URL(s.url).port], /already in use/);
});
