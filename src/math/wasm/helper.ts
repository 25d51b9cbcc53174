/**
 * A kernel helper thread (see `pool.ts`): instantiates the kernel module on the shared memory,
 * then waits for jobs on its control word, claims rows of each job it picks up, reports done.
 */
import { workerData } from 'node:worker_threads';
import { KERNEL_NAMES } from './kernels.js';
import { claimRows, DONE, FAILED, IDLE, KERNEL, POSTED, RUNNING, STARTING, STATE, type HelperData, type Kernel } from './pool.js';

const { module, memory, control, slot } = workerData as HelperData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = KERNEL_NAMES.map((name) => exports[name] as Kernel);
const c = new Int32Array(control);
const state = STATE + slot;
Atomics.compareExchange(c, state, STARTING, IDLE); // unless a job was posted already
Atomics.notify(c, state);

for (;;) {
  const s = Atomics.load(c, state);
  if (s !== POSTED) {
    Atomics.wait(c, state, s);
    continue;
  }
  if (Atomics.compareExchange(c, state, POSTED, RUNNING) !== POSTED) continue; // withdrawn
  try {
    claimRows(c, kernels[c[KERNEL]]);
  } catch {
    Atomics.store(c, FAILED + slot, 1);
  }
  Atomics.store(c, state, DONE);
  Atomics.notify(c, state);
}
