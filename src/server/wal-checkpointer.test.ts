/** Background WAL checkpoints: the worker copies committed updates into the database file while the store keeps writing, and reports a database it cannot open. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { tempDir, waitFor } from './testing.js';
import { WalCheckpointer } from './wal-checkpointer.js';

const round = { round: 1, seed: 1, selected: null, openedAt: 0, deadlineAt: 1 };

test('the worker copies the WAL into the database file; the store never checkpoints itself', async () => {
  const dir = tempDir('wal');
  const path = join(dir.path, 'c.db');
  const store = new SqliteStore(path);
  const checkpointer = new WalCheckpointer(path, (err) => assert.fail(err), 20);
  try {
    await store.initialise(Uint8Array.from([0]), null, round);
    const before = statSync(path).size;
    const body = new Uint8Array(80_000).fill(7);
    for (let c = 0; c < 50; c++) assert.equal(await store.addUpdate(1, c, body), 'added');
    await waitFor('the checkpointer to copy 4 MB of updates into the database file', () => statSync(path).size > before + 4_000_000, 10_000, 20);
    assert.equal(await store.updateCount(1), 50, 'nothing changes for the store');
  } finally {
    await checkpointer.close();
    await store.close();
    dir.remove();
  }
});

test('a database the worker cannot open is reported, and close still returns', async () => {
  const dir = tempDir('wal');
  const errors: Error[] = [];
  const checkpointer = new WalCheckpointer(dir.path, (err) => errors.push(err));
  try {
    await waitFor('the worker to report the failure', () => errors.length > 0, 10_000, 20);
  } finally {
    await checkpointer.close();
    dir.remove();
  }
});
