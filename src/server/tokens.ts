/**
 * Client tokens: 32 random bytes, base64url, prefixed `frt_`. Only the SHA-256 of a token is
 * stored (a token has 256 bits of entropy, so a fast hash is enough: there is nothing to guess).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientRecord, Store } from './types.js';

export function newToken(): string {
  return `frt_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Issue a token for a new client; the plain token is returned once and never stored. */
export async function issueToken(store: Store, label = '', expiresAt: number | null = null): Promise<{ token: string; client: ClientRecord }> {
  const token = newToken();
  const client = await store.createClient(hashToken(token), label, expiresAt);
  return { token, client };
}
