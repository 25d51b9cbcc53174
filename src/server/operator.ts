/**
 * The operator token: what opens the read-only dashboard (`/dashboard`) and lets an operator's
 * evaluation process report validation metrics. One per coordinator database, `fro_` + 32 random
 * bytes (base64url), printed once by `fedrec token operator` and stored only as its SHA-256 in the
 * store's meta table; issuing a new one replaces (revokes) the old one at once, also while the
 * coordinator runs. It is not a client token: the two are kept in different places and neither
 * opens the other's routes.
 *
 * It travels in the Authorization header, never in a URL (URLs end up in logs and browser history):
 * `Bearer <token>` for scripts, or HTTP Basic with the token as the password (any user name) so a
 * browser can open the dashboard page itself; the browser then sends it with the page's polling.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashToken } from './tokens.js';
import type { Store } from './types.js';

export const OPERATOR_TOKEN_META = 'operator-token-sha256';

export async function issueOperatorToken(store: Pick<Store, 'setMeta'>): Promise<string> {
  const token = `fro_${randomBytes(32).toString('base64url')}`;
  await store.setMeta(OPERATOR_TOKEN_META, hashToken(token));
  return token;
}

export type OperatorScheme = 'bearer' | 'basic';

/** The token an Authorization header carries, and how; null when there is none. */
export function presentedToken(header: string | undefined): { token: string; scheme: OperatorScheme } | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value) return { token: value, scheme: 'bearer' };
  if (scheme === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password ? { token: password, scheme: 'basic' } : null;
  }
  return null;
}

export type OperatorCheck = { ok: true; scheme: OperatorScheme } | { ok: false; why: 'missing' | 'unknown' | 'none-issued' };

export async function checkOperator(store: Pick<Store, 'getMeta'>, header: string | undefined): Promise<OperatorCheck> {
  const presented = presentedToken(header);
  if (!presented) return { ok: false, why: 'missing' };
  const stored = await store.getMeta(OPERATOR_TOKEN_META);
  if (!stored) return { ok: false, why: 'none-issued' };
  const a = Buffer.from(hashToken(presented.token), 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b) ? { ok: true, scheme: presented.scheme } : { ok: false, why: 'unknown' };
}
