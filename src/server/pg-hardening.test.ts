/**
 * The hostile-client hardening on PostgreSQL with two coordinator replicas on one database (real
 * HTTP, a real throwaway PostgreSQL): a token revoked by `fedrec token revoke --store postgres://…`
 * is refused at its very next request by every replica (no replica keeps a token cache); an expired
 * token too; a database whose fedrec tables lack columns stops `fedrec serve` with one line, exit 2;
 * a second coordinator running secure aggregation on the same database is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { parseServerConfig } from './config.js';
import { startTestPostgres, type TestPostgres } from './pg-testing.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { Children, tempDir, writeJson } from './testing.js';

const TRAINING = { syntheticUsers: 30, syntheticItems: 120, syntheticInteractions: 900, dim: 8, rounds: 5, seed: 7 };

let server: TestPostgres;
const replicas: RunningCoordinator[] = [];
const children = new Children();
const dirs: ReturnType<typeof tempDir>[] = [];
before(async () => {
  server = await startTestPostgres();
});
after(async () => {
  children.killAll();
  for (const r of replicas) await r.close().catch(() => undefined);
  for (const d of dirs) d.remove();
  await server?.stop();
});

const get = (url: string, token: string) => fetch(`${url}/v1/round`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });

test('postgres, two replicas: a token revoked through the CLI is refused at its next request by both; an expired one too', { timeout: 120_000 }, async () => {
  const url = await server.database();
  const config = parseServerConfig({ training: TRAINING, coordinator: { minClients: 3, roundDeadlineSeconds: 600 } });
  for (let k = 0; k < 2; k++) replicas.push(await startCoordinator({ config, dbPath: url, port: 0, buildBundle: false }));
  const [a, b] = replicas;
  const { token, client } = await issueToken(a.store);
  const live = (await issueToken(b.store)).token;
  const expired = (await issueToken(a.store, '', Date.now() - 1)).token;
  for (const r of replicas) assert.equal((await get(r.url, token)).status, 200, 'known on both replicas');
  const revoke = children.spawn(['token', 'revoke', '--store', url, '--token', token]);
  assert.equal(await revoke.exited, 0, revoke.stderr());
  assert.match(revoke.stdout(), new RegExp(`revoked client ${client.id}`));
  for (const r of replicas) {
    const refused = await get(r.url, token);
    assert.equal(refused.status, 401, `replica ${r.url}`);
    assert.match(((await refused.json()) as { message: string }).message, /revoked or expired/);
    assert.equal((await get(r.url, expired)).status, 401, 'expired');
    assert.equal((await get(r.url, live)).status, 200, 'another token still works');
  }
});

test('postgres: a database whose fedrec tables lack columns stops fedrec serve with one clear line, exit 2', { timeout: 120_000 }, async () => {
  const url = await server.database();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT)');
  await c.end();
  const dir = tempDir('pg-hardening');
  dirs.push(dir);
  const config = writeJson(`${dir.path}/config.json`, { training: TRAINING, coordinator: { minClients: 1 } });
  const child = children.spawn(['serve', '--config', config, '--store', url, '--port', '0']);
  const code = await child.exited;
  const err = child.stderr().trim();
  assert.equal(code, 2, err);
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /not a fedrec database or its schema is damaged \(missing clients\.token_hash/);
  assert.doesNotMatch(err, /\n\s+at /);
});

test('postgres: a second coordinator with secure aggregation on the same database is refused with one clear error', { timeout: 120_000 }, async () => {
  const url = await server.database();
  const config = parseServerConfig({ training: TRAINING, coordinator: { minClients: 3, roundDeadlineSeconds: 600, secureAggregation: { threshold: 0.6, phaseSeconds: 60 } } });
  const first = await startCoordinator({ config, dbPath: url, port: 0, buildBundle: false });
  replicas.push(first);
  await assert.rejects(startCoordinator({ config, dbPath: url, port: 0, buildBundle: false }), /another coordinator already runs secure rounds on this database/);
  await first.close();
  replicas.splice(replicas.indexOf(first), 1);
  // the claim ends with the process's session: a successor may take over
  const successor = await startCoordinator({ config, dbPath: url, port: 0, buildBundle: false });
  replicas.push(successor);
});
