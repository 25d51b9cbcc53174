/**
 * Helper threads for the WebAssembly kernels (`kernels.ts`): each helper instantiates the kernel
 * module on the same shared memory and, when a job is posted, claims chunks of its rows from a
 * shared counter until none are left, as the posting thread does. A posted job that a helper
 * has not picked up by the time the posting thread ran out of rows is withdrawn, so a helper that
 * is slow to wake (the machine is busy) costs nothing. Job parameters and per-helper states live
 * in a small SharedArrayBuffer (the control block); synchronisation is Atomics wait / notify.
 */
import { Worker } from 'node:worker_threads';
import { KERNEL_NAMES, type KernelName } from './kernels.js';

export const MAX_HELPERS = 8;
const MAX_ARGS = 16;

/** Layout of the control block (int32 words). */
const NEXT = 0; // next unclaimed row
const ROWS = 1;
const CHUNK = 2;
export const KERNEL = 3; // index in KERNEL_NAMES
const ARGS = 4; // kernel arguments after (lo, hi)
export const STATE = ARGS + MAX_ARGS; // one word per helper
export const FAILED = STATE + MAX_HELPERS; // one word per helper
const WORDS = FAILED + MAX_HELPERS;

/** Helper states. */
export const STARTING = -1;
export const IDLE = 0;
export const POSTED = 1;
export const RUNNING = 2;
export const DONE = 3;

export type Kernel = (lo: number, hi: number, ...args: number[]) => void;

/** Runs rows of the posted job in chunks until the shared counter passes the end. */
export function claimRows(control: Int32Array, kernel: Kernel): void {
  const rows = control[ROWS];
  const chunk = control[CHUNK];
  const args = Array.from(control.subarray(ARGS, STATE));
  for (let lo = Atomics.add(control, NEXT, chunk); lo < rows; lo = Atomics.add(control, NEXT, chunk)) {
    kernel(lo, Math.min(rows, lo + chunk), ...args);
  }
}

export interface HelperData {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  readonly slot: number;
}

/** How long the constructor waits for helpers to start (one that is later joins later jobs). */
const START_MS = 5000;

export class HelperPool {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * WORDS));
  private readonly workers: Worker[] = [];

  /** Starts `helpers` threads and waits until they are ready. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, helpers: number) {
    if (!Number.isInteger(helpers) || helpers < 0 || helpers > MAX_HELPERS) throw new RangeError(`kernel helpers must be an integer in [0, ${MAX_HELPERS}], got ${helpers}`);
    const c = this.control;
    for (let slot = 0; slot < helpers; slot++) {
      c[STATE + slot] = STARTING;
      const workerData: HelperData = { module, memory, control: c.buffer as SharedArrayBuffer, slot };
      const worker = new Worker(new URL('./helper.js', import.meta.url), { workerData });
      worker.unref(); // never keeps the process alive
      this.workers.push(worker);
    }
    const deadline = performance.now() + START_MS;
    for (let slot = 0; slot < helpers; slot++) {
      for (let left = START_MS; Atomics.load(c, STATE + slot) === STARTING && left > 0; left = deadline - performance.now()) {
        Atomics.wait(c, STATE + slot, STARTING, left);
      }
    }
  }

  /**
   * Runs `kernel` over rows [0, rows) in chunks of `chunk` rows, on this thread and every helper
   * that picks the job up in time; returns when all rows are done. A helper that has not picked
   * the job up when this thread runs out of rows (asleep, or still starting) is withdrawn from it.
   */
  run(name: KernelName, kernel: Kernel, rows: number, chunk: number, args: readonly number[]): void {
    const c = this.control;
    if (args.length > MAX_ARGS) throw new RangeError(`kernel ${name}: ${args.length} arguments, at most ${MAX_ARGS}`);
    c[ROWS] = rows;
    c[CHUNK] = chunk;
    c[KERNEL] = KERNEL_NAMES.indexOf(name);
    c.fill(0, ARGS, STATE);
    c.set(args, ARGS);
    Atomics.store(c, NEXT, 0);
    for (let h = 0; h < this.workers.length; h++) {
      Atomics.store(c, STATE + h, POSTED);
      Atomics.notify(c, STATE + h);
    }
    let failed = false;
    try {
      claimRows(c, kernel);
    } finally {
      for (let h = 0; h < this.workers.length; h++) {
        if (Atomics.compareExchange(c, STATE + h, POSTED, IDLE) === POSTED) continue; // never picked up
        while (Atomics.load(c, STATE + h) !== DONE) Atomics.wait(c, STATE + h, RUNNING);
        failed ||= Atomics.exchange(c, FAILED + h, 0) !== 0;
        Atomics.store(c, STATE + h, IDLE);
      }
    }
    if (failed) throw new Error(`kernel ${name} failed on a helper thread`);
  }
}
