/** Growing a WebAssembly memory to hold a given number of bytes: the one step every kernel owner (heap, MF client, Gram blocks) needs. */

/** Bytes per WebAssembly page. */
export const PAGE = 65536;

/**
 * Grows `memory` to at least `bytes` bytes; a RangeError naming `owner` when that takes more than
 * `maxPages` pages. Returns the (possibly new) buffer.
 */
export function growTo(memory: WebAssembly.Memory, bytes: number, maxPages: number, owner: string): ArrayBuffer {
  const need = Math.ceil(bytes / PAGE);
  if (need > maxPages) throw new RangeError(`${owner}: ${bytes} bytes needed, at most ${maxPages * PAGE}`);
  const have = memory.buffer.byteLength / PAGE;
  if (need > have) memory.grow(need - have);
  return memory.buffer;
}
