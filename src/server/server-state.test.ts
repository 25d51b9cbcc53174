/**
 * The server optimiser's state (server Adam, the engine's FedAvg default) is checkpointed with the
 * model and restored on restart: a coordinator stopped after round 1 and started again on the same
 * database closes round 2 exactly as one that never stopped, and it really uses the restored state
 * (starting round 2 from a fresh optimiser instead gives another model). In process, deterministic
 * updates, a real SQLite file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { GlobalUpdate } from '../federated/types.js';
import { decodeState, encodeState, encodeUpdate } from '../wire/messages.js';
import { parseServerConfig } from './config.js';
import { startCoordinator } from './serve.js';
import { tempDir } from './testing.js';
import { issueToken } from './tokens.js';
import type { ClientRecord } from './types.js';

const DIM = 4;
const config = parseServerConfig({
  training: { syntheticUsers: 20, syntheticItems: 40, syntheticInteractions: 300, dim: DIM, rounds: 3, seed: 5 },
  coordinator: { minClients: 2, roundDeadlineSeconds: 600 },
});
const dir = tempDir('server-state');
after(() => dir.remove());

/** Client `c`'s update of round `r`: distinct rows and values, so Adam's moments differ per row. */
function update(round: number, c: number): GlobalUpdate {
  const rows = Int32Array.from([c, 5 + c, 11]);
  const v = (k: number) => Math.sin(round * 7 + c * 3 + k) * 0.05;
  return {
    round,
    weight: 3 + c,
    loss: 0.5,
    rows,
    itemTables: { itemEmb: Float32Array.from({ length: rows.length * DIM }, (_, k) => v(k)), itemBias: Float32Array.from({ length: rows.length }, (_, k) => v(100 + k)) },
    denseTables: { globalBias: Float32Array.from([v(200)]) },
  };
}

type Running = Awaited<ReturnType<typeof startCoordinator>>;

async function start(db: string): Promise<Running> {
  return startCoordinator({ config, dbPath: join(dir.path, db), port: 0, buildBundle: false });
}

async function playRound(server: Running, clients: readonly ClientRecord[], round: number): Promise<void> {
  assert.equal(server.coordinator.status().openRound, round);
  for (const c of clients) await server.coordinator.submit(c, encodeUpdate(update(round, c.id)));
  await server.coordinator.tick();
  assert.equal(server.coordinator.model().version, round);
}

/** Rounds 1 and 2; `between` runs with the coordinator stopped after round 1 (null: it never stops). */
async function run(db: string, between: ((path: string) => void) | null): Promise<Uint8Array> {
  let server = await start(db);
  const clients = [(await issueToken(server.store)).client, (await issueToken(server.store)).client];
  await server.coordinator.tick();
  await playRound(server, clients, 1);
  if (between) {
    await server.close();
    between(join(dir.path, db));
    server = await start(db);
  }
  await playRound(server, clients, 2);
  const model = server.coordinator.model().bytes.slice();
  await server.close();
  return model;
}

test('server Adam state survives a restart: round 2 equals an uninterrupted run, and the state is used', async () => {
  assert.equal(config.training.serverOptimizer, 'adam', 'the engine default under test');
  const uninterrupted = await run('a.db', null);
  let checkpointed: ReturnType<typeof decodeState> | null = null;
  const restarted = await run('b.db', (path) => {
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT version, server_state FROM checkpoints ORDER BY version DESC LIMIT 1').get() as { version: number; server_state: Buffer };
    db.close();
    assert.equal(row.version, 1);
    checkpointed = decodeState(new Uint8Array(row.server_state));
  });
  assert.ok(checkpointed);
  const state = checkpointed as ReturnType<typeof decodeState>;
  assert.equal(state.step, 1, 'one server step after round 1');
  assert.deepEqual(Object.keys(state.tables).sort(), ['m/globalBias', 'm/itemBias', 'm/itemEmb', 'v/globalBias', 'v/itemBias', 'v/itemEmb']);
  assert.ok(state.tables['m/itemEmb'].some((x) => x !== 0));
  assert.deepEqual(restarted, uninterrupted, 'the restarted coordinator continued the same Adam state');

  // Wipe the checkpointed state (a fresh Adam) before the restart: round 2 then moves differently.
  const fresh = await run('c.db', (path) => {
    const db = new Database(path);
    db.prepare('UPDATE checkpoints SET server_state = ? WHERE version = 1').run(Buffer.from(encodeState({ step: 0, tables: {} })));
    db.close();
  });
  assert.notDeepEqual(fresh, uninterrupted, 'the restored state, not a fresh optimiser, made round 2');
});

test('a checkpoint whose server state does not fit the configured optimiser is refused on restart', async () => {
  const first = await start('d.db');
  await first.close();
  const db = new Database(join(dir.path, 'd.db'));
  db.prepare('UPDATE checkpoints SET server_state = ? WHERE version = 0').run(Buffer.from(encodeState({ step: 0, tables: { 'velocity/itemEmb': new Float32Array(1) } })));
  db.close();
  await assert.rejects(start('d.db'), /checkpoint 0: cannot restore the server optimiser state \(.*'velocity\/itemEmb'.*fresh --db/);
});
