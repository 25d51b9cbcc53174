/**
 * Payload sizes as the binary wire format carries them: little-endian float32 values and int32
 * row indices (metadata headers excluded). Used to report bytes sent down and up per round.
 */
import type { GlobalParams } from '../models/types.js';
import type { GlobalUpdate } from './types.js';

export function globalBytes(global: GlobalParams): number {
  let n = 0;
  for (const v of Object.values(global)) n += v.length * 4;
  return n;
}

export function updateBytes(update: GlobalUpdate): number {
  let n = update.rows.length * 4;
  for (const v of Object.values(update.itemTables)) n += v.length * 4;
  for (const v of Object.values(update.denseTables)) n += v.length * 4;
  return n;
}
