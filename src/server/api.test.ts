/**
 * The coordinator's HTTP API against bad clients: every malformed, invalid or unauthorised update
 * is refused with the right status and a message naming the problem, and the model, the round and
 * the other clients are unaffected. Real HTTP on 127.0.0.1, a real SQLite file in a temp folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { encodeMessage } from '../wire/codec.js';
import { encodeUpdate } from '../wire/messages.js';
import type { GlobalUpdate } from '../federated/types.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { tempDir, waitFor } from './testing.js';

const DIM = 8;
let dir: ReturnType<typeof tempDir>;
let server: RunningCoordinator;
let tokens: string[];
let nItems: number;

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

async function post(body: Uint8Array, token: string | null, type = 'application/octet-stream'): Promise<{ status: number; body: { error?: string; message?: string; accepted?: boolean } }> {
  const headers: Record<string, string> = { 'content-type': type };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}/v1/update`, { method: 'POST', headers, body: body as unknown as BodyInit, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
}

async function modelBytes(): Promise<Buffer> {
  const res = await fetch(`${server.url}/v1/model`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

async function healthz(): Promise<{ completedRounds: number; openRound: number | null; updatesInRound: number }> {
  return (await (await fetch(`${server.url}/healthz`)).json()) as { completedRounds: number; openRound: number | null; updatesInRound: number };
}

before(async () => {
  dir = tempDir('api');
  const config = parseServerConfig({
    training: { syntheticUsers: 30, syntheticItems: 120, syntheticInteractions: 900, dim: DIM, rounds: 5, seed: 7 },
    coordinator: { minClients: 3, roundDeadlineSeconds: 600, normBound: 50, normMode: 'reject', maxUpdateBytes: 64 * 1024 },
  });
  server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false });
  tokens = [];
  for (let k = 0; k < 3; k++) tokens.push((await issueToken(server.store)).token);
  await server.coordinator.tick();
  nItems = server.coordinator.catalogue.nItems;
});

after(async () => {
  await server?.close();
  dir?.remove();
});

test('three valid updates close round 1; the model moves to version 1', async () => {
  assert.equal((await healthz()).openRound, 1);
  for (const t of tokens) {
    const r = await post(encodeUpdate(update(1)), t);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.accepted, true);
  }
  const h = await waitFor('round 1 to close', async () => ((await healthz()).completedRounds === 1 ? healthz() : undefined), 10_000);
  assert.equal(h.completedRounds, 1);
  assert.equal(h.openRound, 2);
});

test('bad updates are refused with the right status and message; nothing changes', async () => {
  const before = await modelBytes();
  const huge = update(2, { itemTables: { itemEmb: new Float32Array(3 * DIM).fill(100), itemBias: new Float32Array(3) } });
  const nan = update(2);
  nan.itemTables.itemEmb[5] = Number.NaN;
  const good = encodeUpdate(update(2));
  const cases: { name: string; body: Uint8Array; token: string | null; status: number; error: string; message: RegExp; type?: string }[] = [
    { name: 'missing token', body: good, token: null, status: 401, error: 'unauthorized', message: /missing token/ },
    { name: 'wrong token', body: good, token: 'frt_not-a-real-token', status: 401, error: 'unauthorized', message: /unknown, revoked or expired token/ },
    { name: 'NaN', body: encodeUpdate(nan), token: tokens[0], status: 422, error: 'not-finite', message: /itemEmb.*\[5\] is NaN/ },
    {
      name: 'wrong shape',
      body: encodeUpdate(update(2, { itemTables: { itemEmb: new Float32Array(3 * DIM - 1), itemBias: new Float32Array(3) } })),
      token: tokens[0], status: 422, error: 'shape', message: /'itemEmb' has 23 values, expected 24/,
    },
    {
      name: 'out-of-range index',
      body: encodeUpdate(update(2, { rows: Int32Array.from([0, 3, nItems]) })),
      token: tokens[0], status: 422, error: 'index', message: new RegExp(`rows\\[2\\] = ${nItems} is outside \\[0, ${nItems}\\)`),
    },
    { name: 'norm bound', body: encodeUpdate(huge), token: tokens[0], status: 422, error: 'norm', message: /norm .* exceeds the bound 50/ },
    { name: 'oversized body', body: new Uint8Array(65 * 1024), token: tokens[0], status: 413, error: 'too-large', message: /exceeds the limit of 65536 bytes/ },
    { name: 'malformed binary', body: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), token: tokens[0], status: 400, error: 'malformed', message: /bad magic/ },
    {
      name: 'truncated binary',
      body: good.subarray(0, good.length - 8), token: tokens[0], status: 400, error: 'malformed', message: /runs past the end/,
    },
    {
      name: 'unknown table',
      body: encodeMessage({ kind: 'update', round: 2, weight: 1, loss: 0, sections: [{ name: 'rows', dtype: 'i32', length: 0, role: 'index' }, { name: 'userEmb', dtype: 'f32', length: 0, role: 'item' }] }, [new Int32Array(0), new Float32Array(0)]),
      token: tokens[0], status: 422, error: 'shape', message: /unknown table 'userEmb'/,
    },
    { name: 'replayed round id', body: encodeUpdate(update(1)), token: tokens[1], status: 409, error: 'round-closed', message: /round 1 refused: the open round is 2/ },
    { name: 'future round id', body: encodeUpdate(update(9)), token: tokens[1], status: 409, error: 'round-closed', message: /round 9 refused/ },
    { name: 'wrong content type', body: good, token: tokens[0], status: 415, error: 'unsupported-media-type', message: /application\/octet-stream/, type: 'application/x-foo' },
    { name: 'weight', body: encodeUpdate(update(2, { weight: -3 })), token: tokens[0], status: 422, error: 'weight', message: /weight -3 must be/ },
  ];
  for (const c of cases) {
    const r = await post(c.body, c.token, c.type);
    assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, c.error, c.name);
    assert.match(r.body.message ?? '', c.message, c.name);
  }
  assert.deepEqual(await modelBytes(), before, 'the model is unchanged');
  const h = await healthz();
  assert.equal(h.openRound, 2);
  assert.equal(h.updatesInRound, 0, 'no bad update was stored');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  for (const reason of ['unauthorized', 'not-finite', 'shape', 'index', 'norm', 'too-large', 'malformed', 'round-closed']) {
    assert.match(metrics, new RegExp(`fedrec_updates_rejected_total\\{reason="${reason}"\\} [1-9]`), reason);
  }
});

test('one update per client per round; the server keeps serving the others', async () => {
  assert.equal((await post(encodeUpdate(update(2)), tokens[0])).status, 200);
  const again = await post(encodeUpdate(update(2)), tokens[0]);
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'duplicate');
  assert.match(again.body.message ?? '', /client 0 already sent its update for round 2/);
  assert.equal((await post(encodeUpdate(update(2)), tokens[1])).status, 200);
  assert.equal((await healthz()).updatesInRound, 2);
});

test('GET routes need a token too; healthz and metrics do not', async () => {
  for (const path of ['/v1/round', '/v1/model', '/v1/catalogue']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 401, path);
  }
  const round = await (await fetch(`${server.url}/v1/round`, { headers: { authorization: `Bearer ${tokens[2]}` } })).json() as { status: string; round: number; clientId: number };
  assert.equal(round.status, 'train');
  assert.equal(round.round, 2);
  assert.equal(round.clientId, 2);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /fedrec_rounds_completed_total 1/);
  assert.match(metrics, /process_resident_memory_bytes/);
});
