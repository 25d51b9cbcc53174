/**
 * One instance of the dense-layer kernels (math/wasm/dense-kernels.ts) per thread, on a private
 * growing memory that callers borrow in turn: a caller lays out its matrices from byte 0, runs its
 * kernels and copies the results out within one synchronous call, so nothing lives in the memory
 * between calls. Lets many short-lived models (a federated client's model each round) share one
 * instance instead of instantiating a module per model.
 */
import { DENSE_KERNEL_NAMES, DENSE_MAX_PAGES, denseKernelModuleBytes, type DenseKernelName } from './dense-kernels.js';
import { growTo } from './memory.js';

export type DenseKernel = (...args: number[]) => void;

export interface DenseScratch {
  readonly kernels: Readonly<Record<DenseKernelName, DenseKernel>>;
  readonly memory: WebAssembly.Memory;
  /** Grows the memory to at least `bytes` (views of the old buffer are detached when it grows). */
  reserve(bytes: number, owner: string): void;
}

let bytes: Uint8Array<ArrayBuffer> | null = null;
let supported: boolean | null = null;
let scratch: DenseScratch | null = null;

/** Whether this runtime has WebAssembly with fixed-width SIMD for the dense kernels. */
export function denseScratchSupported(): boolean {
  if (supported === null) {
    bytes ??= denseKernelModuleBytes();
    supported = typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  }
  return supported;
}

/** This thread's dense-kernel instance (created on first use). */
export function denseScratch(): DenseScratch {
  if (scratch) return scratch;
  bytes ??= denseKernelModuleBytes();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: DENSE_MAX_PAGES });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const kernels = Object.fromEntries(DENSE_KERNEL_NAMES.map((n) => [n, exports[n] as DenseKernel])) as Record<DenseKernelName, DenseKernel>;
  scratch = { kernels, memory, reserve: (n, owner) => void growTo(memory, n, DENSE_MAX_PAGES, owner) };
  return scratch;
}
