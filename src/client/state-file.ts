/**
 * A client's local tables on its own disk (`--state FILE`), so a restarted client process keeps its
 * user embeddings. Stored as a wire model message (version = last round it trained), written to a
 * temporary file and renamed.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ClientState } from '../federated/types.js';
import type { GlobalParams, LocalParams } from '../models/types.js';
import { decodeModel, encodeModel } from '../wire/messages.js';

export function saveState(path: string, state: ClientState, round: number): void {
  const tables = state.local as unknown as GlobalParams;
  const bytes = encodeModel(tables, round, Object.keys(tables));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function loadState(path: string): { state: ClientState; round: number } | null {
  if (!existsSync(path)) return null;
  const { version, global } = decodeModel(new Uint8Array(readFileSync(path)));
  return { state: { local: global as unknown as LocalParams }, round: version };
}
