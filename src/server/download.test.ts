/**
 * The model download over real HTTP: with `training.download` q8 or f16 the coordinator sends the
 * packed model (its checkpoint stays float32), a client decodes exactly the tables the simulation
 * hands its clients (`downloadedModel`), and the bytes shrink; with `Accept-Encoding: gzip` the
 * coordinator sends the same message gzip-compressed when that saves ≥ 5 %, identity otherwise.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeModel } from '../wire/messages.js';
import { downloadedModel } from '../wire/quantize.js';
import { parseServerConfig } from './config.js';
import { startCoordinator, type RunningCoordinator } from './serve.js';
import { issueToken } from './tokens.js';
import { tempDir } from './testing.js';

const servers: RunningCoordinator[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) d.remove();
});

/** GET /v1/model without automatic decompression: the bytes on the wire and the content-encoding. */
function rawModel(url: string, token: string, gzip: boolean): Promise<{ body: Buffer; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) };
    get(`${url}/v1/model`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: Buffer.concat(chunks), encoding: res.headers['content-encoding'] }));
    }).on('error', reject);
  });
}

test('quantised and gzip-compressed model downloads decode to what the simulation hands its clients', { timeout: 120_000 }, async () => {
  const sizes: Record<string, number> = {};
  for (const download of ['f32', 'f16', 'q8'] as const) {
    const dir = tempDir(`download-${download}`);
    dirs.push(dir);
    const config = parseServerConfig({
      training: { syntheticUsers: 30, syntheticItems: 300, syntheticInteractions: 900, dim: 16, rounds: 2, seed: 9, download },
      coordinator: { minClients: 2, roundDeadlineSeconds: 600 },
    });
    const server = await startCoordinator({ config, dbPath: join(dir.path, 'c.db'), port: 0, buildBundle: false, logger: false });
    servers.push(server);
    const token = (await issueToken(server.store)).token;
    const plain = await rawModel(server.url, token, false);
    assert.equal(plain.encoding, undefined);
    sizes[download] = plain.body.length;
    const decoded = decodeModel(new Uint8Array(plain.body));
    const master = decodeModel((await server.store.latestCheckpoint())?.model as Uint8Array);
    const expected = downloadedModel(master.global, server.coordinator.info, download);
    for (const name of server.coordinator.names) assert.deepEqual(decoded.global[name], expected[name], `${download} ${name}`);
    if (download !== 'f32') assert.notDeepEqual(master.global.itemEmb, decoded.global.itemEmb, 'the checkpoint keeps float32 master weights');

    const compressed = await rawModel(server.url, token, true);
    const pays = server.coordinator.modelGzip() !== null;
    assert.equal(compressed.encoding, pays ? 'gzip' : undefined);
    const body = pays ? gunzipSync(compressed.body) : compressed.body;
    assert.deepEqual(body, plain.body, 'the same message, compressed or not');
    if (pays) assert.ok(compressed.body.length <= 0.95 * plain.body.length);
    process.stdout.write(`# ${download}: ${plain.body.length} B, with Accept-Encoding gzip ${compressed.body.length} B\n`);
  }
  assert.ok(sizes.f16 < 0.6 * sizes.f32 && sizes.q8 < 0.4 * sizes.f32, JSON.stringify(sizes));
});
