/** The SQLite store: ids in creation order, hashed tokens, one update per client and round, atomic round completion, durability across reopen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeState, encodeState } from '../wire/messages.js';
import { SqliteStore } from './sqlite-store.js';
import { hashToken, issueToken } from './tokens.js';
import { tempDir } from './testing.js';

const round = (r: number) => ({ round: r, seed: 1, selected: null, openedAt: 0, deadlineAt: 1 });

test('clients get ids 0, 1, 2 and only token hashes are stored', () => {
  const dir = tempDir('store');
  try {
    const store = new SqliteStore(join(dir.path, 's.db'));
    const issued = [0, 1, 2].map(() => issueToken(store, 'x'));
    assert.deepEqual(issued.map((i) => i.client.id), [0, 1, 2]);
    assert.equal(store.clientByTokenHash(hashToken(issued[1].token))?.id, 1);
    assert.equal(store.clientByTokenHash(issued[1].token), null, 'the plain token is not a key');
    store.close();
  } finally {
    dir.remove();
  }
});

test('round completion is atomic and survives reopening; updates are once per client, ordered by id', () => {
  const dir = tempDir('store');
  const path = join(dir.path, 's.db');
  try {
    let store = new SqliteStore(path, { keepCheckpoints: 2 });
    store.initialise(Uint8Array.from([0]), null, round(1));
    assert.equal(store.addUpdate(1, 5, Uint8Array.from([5])), 'added');
    assert.equal(store.addUpdate(1, 2, Uint8Array.from([2])), 'added');
    assert.equal(store.addUpdate(1, 5, Uint8Array.from([9])), 'duplicate');
    assert.equal(store.addUpdate(2, 1, Uint8Array.from([1])), 'round-not-open');
    assert.deepEqual(store.updatesOf(1).map((u) => u.clientId), [2, 5]);
    store.close();
    store = new SqliteStore(path, { keepCheckpoints: 2 });
    assert.equal(store.openRound()?.round, 1, 'the open round survives a restart');
    assert.equal(store.updateCount(1), 2, 'accepted updates survive a restart');
    store.completeRound({ round: 1, clients: 2, loss: 0.5, closedAt: 1 }, Uint8Array.from([1]), null, null);
    assert.throws(() => store.completeRound({ round: 1, clients: 2, loss: 0.5, closedAt: 1 }, Uint8Array.from([1]), null, null), /not open/);
    assert.equal(store.latestCheckpoint()?.version, 1, 'a failed second completion changed nothing');
    assert.equal(store.openRound(), null);
    assert.equal(store.updateCount(1), 0);
    assert.deepEqual(store.closedRounds().map((r) => [r.round, r.clients]), [[1, 2]]);
    store.insertRound(round(2));
    assert.throws(() => store.insertRound(round(3)), /UNIQUE/, 'at most one open round');
    store.close();
  } finally {
    dir.remove();
  }
});

test('the server state is checkpointed with the model in the same transaction and survives reopening', () => {
  const dir = tempDir('store');
  const path = join(dir.path, 's.db');
  try {
    let store = new SqliteStore(path);
    store.initialise(Uint8Array.from([0]), encodeState({ step: 0, tables: {} }), round(1));
    assert.deepEqual(decodeState(store.latestCheckpoint()?.serverState as Uint8Array), { step: 0, tables: {} });
    const state = { step: 1, tables: { 'm/itemEmb': Float32Array.from([0.25, -0.5]), 'v/itemEmb': Float32Array.from([1e-3, 4e-3]) } };
    store.completeRound({ round: 1, clients: 1, loss: 0, closedAt: 1 }, Uint8Array.from([1]), encodeState(state), null);
    assert.throws(() => store.completeRound({ round: 1, clients: 1, loss: 0, closedAt: 2 }, Uint8Array.from([9]), encodeState({ step: 9, tables: {} }), null), /not open/);
    store.close();
    store = new SqliteStore(path);
    const checkpoint = store.latestCheckpoint();
    assert.equal(checkpoint?.version, 1);
    assert.deepEqual([...(checkpoint?.model ?? [])], [1]);
    assert.deepEqual(decodeState(checkpoint?.serverState as Uint8Array), state, 'the state of round 1, bit for bit');
    store.insertRound(round(2));
    store.completeRound({ round: 2, clients: 1, loss: 0, closedAt: 3 }, Uint8Array.from([2]), null, null);
    assert.equal(store.latestCheckpoint()?.serverState, null, 'a strategy without server state stores none');
    store.close();
  } finally {
    dir.remove();
  }
});

test('a database whose checkpoints lack the server state column is refused with a clear error', () => {
  const dir = tempDir('store');
  const path = join(dir.path, 'old.db');
  try {
    const old = new Database(path);
    old.exec('CREATE TABLE checkpoints (version INTEGER PRIMARY KEY, model BLOB NOT NULL, created_at INTEGER NOT NULL)');
    old.close();
    assert.throws(() => new SqliteStore(path), /older fedrec .*checkpoints\.server_state.*fresh --db/);
  } finally {
    dir.remove();
  }
});
