/**
 * Worker thread of `WalCheckpointer`: opens the coordinator's database and runs
 * `PRAGMA wal_checkpoint(PASSIVE)`, which copies what the WAL holds beyond the last checkpoint into
 * the database file without waiting for, or blocking, the coordinator's writes. It runs again at
 * once while each pass finds new frames, and every `intervalMs` once caught up; a failure is posted
 * to the parent as a message (once until it changes or a pass succeeds); 'stop' closes the
 * connection and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { dbPath, intervalMs } = workerData as { dbPath: string; intervalMs: number };
const port = parentPort as NonNullable<typeof parentPort>;
const db = new Database(dbPath);
db.pragma('synchronous = NORMAL');
let last = '';
let lastError = '';

function pass(): void {
  let progressed = false;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    const now = `${r.log}/${r.checkpointed}`;
    progressed = now !== last;
    last = now;
    lastError = '';
  } catch (err) {
    const message = (err as Error).message;
    if (message !== lastError) port.postMessage(message);
    lastError = message;
  }
  timer = setTimeout(pass, progressed ? 0 : intervalMs);
}

let timer = setTimeout(pass, intervalMs);
port.once('message', () => {
  clearTimeout(timer);
  db.close();
  port.close();
});
