/**
 * Background WAL checkpoints for the coordinator's SQLite file. Every accepted update is appended
 * to the write-ahead log; copying those pages back into the database file (a checkpoint, with its
 * fsyncs) takes about a second per thousand 80 KB updates. A worker thread with its own connection
 * runs PASSIVE checkpoints concurrently with the coordinator's writes, keeping up with them, so that
 * work never blocks the event loop; whenever the WAL is fully copied, the next write starts it
 * over, so it stays small. Durability does not depend on it: a transaction is safe once committed
 * to the WAL.
 */
import { Worker } from 'node:worker_threads';

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;

  /**
   * `intervalMs`: how often to look for new frames once caught up. `onError` hears of a failed
   * checkpoint (the worker keeps trying) or of a worker that could not start.
   */
  constructor(dbPath: string, onError: (err: Error) => void, intervalMs = 100) {
    this.worker = new Worker(new URL('./wal-checkpoint-worker.js', import.meta.url), { workerData: { dbPath, intervalMs } });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.on('message', (message: string) => onError(new Error(`WAL checkpoint failed: ${message}`)));
    this.worker.on('error', onError);
    this.worker.unref();
  }

  /** Stop the worker after its current checkpoint and close its connection. */
  async close(): Promise<void> {
    this.worker.ref(); // keep the process alive until the worker has exited
    this.worker.postMessage('stop');
    await this.exited;
  }
}
