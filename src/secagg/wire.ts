/**
 * Wire forms of the secure-aggregation messages (types.ts): JSON with base64 bytes, checked by zod
 * on arrival, except the masked input, which is the vector's little-endian 32-bit words as an
 * `application/octet-stream` body. The same bytes are what the coordinator stores per
 * (round, phase, client), so a restart decodes them with the same functions.
 *
 *   GET  /v1/secagg            → ViewBody: what this client must do next in the open secure round
 *   POST /v1/secagg/keys       ← { round, cPk, sPk }
 *   POST /v1/secagg/shares     ← { round, shares: [{ to, ct }] }
 *   POST /v1/secagg/masked?round=r ← the masked vector (binary)
 *   POST /v1/secagg/unmask     ← { round, self: [{ of, share }], key: [{ of, share }] }
 */
import { z } from 'zod';
import { fromBase64, toBase64 } from './crypto.js';
import type { ClientView, KeysMessage, Roster, SharesMessage, UnmaskMessage } from './types.js';

const b64 = z.string().max(1 << 16).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const id = z.number().int().min(0);
const round = z.number().int().min(1);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const keysSchema = z.object({ round, cPk: b64, sPk: b64 }).strict();
export const sharesSchema = z.object({ round, shares: z.array(z.object({ to: id, ct: b64 }).strict()).max(1024) }).strict();
export const unmaskSchema = z
  .object({
    round,
    self: z.array(z.object({ of: id, share: b64 }).strict()).max(1024),
    key: z.array(z.object({ of: id, share: b64 }).strict()).max(1024),
  })
  .strict();

export const viewSchema = z.discriminatedUnion('phase', [
  z.object({ phase: z.literal('keys'), round }),
  z.object({ phase: z.literal('shares'), round, roster: z.array(id), keys: z.array(z.object({ id, cPk: b64, sPk: b64 })) }),
  z.object({ phase: z.literal('masked'), round, incoming: z.array(z.object({ from: id, ct: b64 })) }),
  z.object({ phase: z.literal('unmask'), round, survivors: z.array(id), dropped: z.array(id) }),
  z.object({ phase: z.enum(['excluded', 'finished', 'closed']), round: z.number().int().min(0), reason: z.string() }),
]);
export type ViewBody = z.infer<typeof viewSchema>;

const json = (v: unknown): Uint8Array => encoder.encode(JSON.stringify(v));

export function parseJson<T>(body: Uint8Array | string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : decoder.decode(body));
  } catch {
    throw new Error(`${what}: not JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${what}: ${i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid'}`);
  }
  return parsed.data;
}

export function keysBody(m: KeysMessage, r = 1): Uint8Array {
  return json({ round: r, cPk: toBase64(m.cPk), sPk: toBase64(m.sPk) });
}

export function keysOf(body: z.infer<typeof keysSchema>): KeysMessage {
  return { cPk: fromBase64(body.cPk), sPk: fromBase64(body.sPk) };
}

export function sharesBody(m: SharesMessage, r = 1): Uint8Array {
  return json({ round: r, shares: [...m.shares].map(([to, ct]) => ({ to, ct: toBase64(ct) })) });
}

export function sharesOf(body: z.infer<typeof sharesSchema>): SharesMessage {
  const shares = new Map<number, Uint8Array>();
  for (const s of body.shares) {
    if (shares.has(s.to)) throw new Error(`shares: two shares for client ${s.to}`);
    shares.set(s.to, fromBase64(s.ct));
  }
  return { shares };
}

export function unmaskBody(m: UnmaskMessage, r = 1): Uint8Array {
  const list = (x: ReadonlyMap<number, Uint8Array>) => [...x].map(([of, share]) => ({ of, share: toBase64(share) }));
  return json({ round: r, self: list(m.selfShares), key: list(m.keyShares) });
}

export function unmaskOf(body: z.infer<typeof unmaskSchema>): UnmaskMessage {
  const map = (list: readonly { of: number; share: string }[], what: string) => {
    const out = new Map<number, Uint8Array>();
    for (const s of list) {
      if (out.has(s.of)) throw new Error(`unmask: two ${what} shares for client ${s.of}`);
      out.set(s.of, fromBase64(s.share));
    }
    return out;
  };
  const m = { selfShares: map(body.self, 'self-mask'), keyShares: map(body.key, 'key') };
  for (const u of m.selfShares.keys()) if (m.keyShares.has(u)) throw new Error(`unmask: both shares for client ${u}`);
  return m;
}

export function maskedBody(y: Uint32Array): Uint8Array {
  return new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
}

/** The masked vector of a binary body (copied: the request buffer is not kept). */
export function maskedOf(body: Uint8Array): Uint32Array {
  if (body.length % 4 !== 0) throw new Error(`masked input of ${body.length} bytes is not whole 32-bit words`);
  const out = new Uint32Array(body.length / 4);
  new Uint8Array(out.buffer).set(body);
  return out;
}

export function viewBody(v: ClientView, r: number): ViewBody {
  switch (v.phase) {
    case 'keys': return { phase: 'keys', round: r };
    case 'shares': return { phase: 'shares', round: r, roster: [...v.roster.ids], keys: [...v.roster.keys].map(([id, k]) => ({ id, cPk: toBase64(k.cPk), sPk: toBase64(k.sPk) })) };
    case 'masked': return { phase: 'masked', round: r, incoming: [...v.incoming].map(([from, ct]) => ({ from, ct: toBase64(ct) })) };
    case 'unmask': return { phase: 'unmask', round: r, survivors: [...v.survivors], dropped: [...v.dropped] };
    default: return { phase: v.phase, round: r, reason: v.reason };
  }
}

export function rosterOf(v: Extract<ViewBody, { phase: 'shares' }>): Roster {
  return { ids: v.roster, keys: new Map(v.keys.map((k) => [k.id, { cPk: fromBase64(k.cPk), sPk: fromBase64(k.sPk) }])) };
}

export function incomingOf(v: Extract<ViewBody, { phase: 'masked' }>): Map<number, Uint8Array> {
  return new Map(v.incoming.map((s) => [s.from, fromBase64(s.ct)]));
}

// Sizes of the views as sent (for the benchmark's byte counts).
export const rosterBody = (roster: Roster): Uint8Array => json(viewBody({ phase: 'shares', roster }, 1));
export const incomingBody = (incoming: ReadonlyMap<number, Uint8Array>): Uint8Array => json(viewBody({ phase: 'masked', incoming }, 1));
export const survivorsBody = (survivors: readonly number[], dropped: readonly number[]): Uint8Array => json(viewBody({ phase: 'unmask', survivors, dropped }, 1));
