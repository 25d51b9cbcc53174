/**
 * The primitives of secure aggregation (Bonawitz et al., "Practical Secure Aggregation for
 * Privacy-Preserving Machine Learning", CCS 2017), all from WebCrypto (`globalThis.crypto.subtle`,
 * the same code in Node ≥ 20 and a browser tab) plus the audited `shamir-secret-sharing` (privy-io,
 * GF(2^8) byte-wise, random x-coordinates): no home-made cryptography.
 *  - key agreement: ECDH on P-256, 256 shared bits;
 *  - key derivation: HKDF-SHA-256 with a context string naming the purpose and the round;
 *  - mask expansion (the PRG): the AES-256-CTR keystream of a derived key;
 *  - share transport: AES-256-GCM with the sender, receiver and round as associated data;
 *  - t-of-n secret sharing of 32-byte secrets.
 */
import { combine, split } from 'shamir-secret-sharing';

const subtle = globalThis.crypto.subtle;
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
const encoder = new TextEncoder();

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('secure aggregation needs a little-endian platform');

/** An ECDH key pair: the raw public point (65 bytes) travels, the private key stays in the object. */
export interface AgreementKeys {
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

export async function generateAgreementKeys(): Promise<AgreementKeys> {
  const pair = (await subtle.generateKey(ECDH, true, ['deriveBits'])) as CryptoKeyPair;
  return { publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)), privateKey: pair.privateKey };
}

/** The 32-byte private scalar of a key pair (what is secret-shared for drop-out recovery). */
export async function privateScalar(keys: AgreementKeys): Promise<Uint8Array> {
  const jwk = await subtle.exportKey('jwk', keys.privateKey);
  return fromBase64Url(jwk.d as string);
}

/** Rebuild a private key from its scalar and its public point (the coordinator, for a dropped client). */
export async function keysFromScalar(scalar: Uint8Array, publicKey: Uint8Array): Promise<AgreementKeys> {
  if (publicKey.length !== 65 || publicKey[0] !== 4) throw new Error('expected an uncompressed P-256 public point (65 bytes)');
  const jwk: JsonWebKey = {
    kty: 'EC',
    crv: 'P-256',
    d: toBase64Url(scalar),
    x: toBase64Url(publicKey.subarray(1, 33)),
    y: toBase64Url(publicKey.subarray(33, 65)),
    ext: true,
  };
  return { publicKey, privateKey: await subtle.importKey('jwk', jwk, ECDH, true, ['deriveBits']) };
}

/** ECDH: 32 shared bytes (the same on both sides); throws on a point not on the curve. */
export async function agree(own: AgreementKeys, peerPublic: Uint8Array): Promise<Uint8Array> {
  const peer = await subtle.importKey('raw', peerPublic as BufferSource, ECDH, false, []);
  return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peer }, own.privateKey, 256));
}

async function derive(secret: Uint8Array, context: string, algorithm: 'AES-GCM' | 'AES-CTR'): Promise<CryptoKey> {
  const ikm = await subtle.importKey('raw', secret as BufferSource, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: encoder.encode(`fedrec-secagg/v1/${context}`) },
    ikm,
    { name: algorithm, length: 256 },
    false,
    algorithm === 'AES-GCM' ? ['encrypt', 'decrypt'] : ['encrypt'],
  );
}

/**
 * `words` pseudo-random 32-bit words expanded from a 32-byte seed: the AES-256-CTR keystream (counter
 * from 0) of the key HKDF derives from the seed under `context`.
 */
export async function expandMask(seed: Uint8Array, context: string, words: number): Promise<Uint32Array> {
  const key = await derive(seed, `mask/${context}`, 'AES-CTR');
  const stream = await subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(words * 4));
  return new Uint32Array(stream);
}

/** AES-256-GCM under a key derived from an agreed secret; the output is iv (12 bytes) ‖ ciphertext ‖ tag. */
export async function seal(secret: Uint8Array, context: string, plaintext: Uint8Array, aad: string): Promise<Uint8Array> {
  const key = await derive(secret, `seal/${context}`, 'AES-GCM');
  const iv = randomBytes(12) as Uint8Array<ArrayBuffer>;
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(aad) }, key, plaintext as BufferSource));
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return out;
}

/** Open what `seal` made; throws when the ciphertext, the key or the associated data do not match. */
export async function open(secret: Uint8Array, context: string, sealed: Uint8Array, aad: string): Promise<Uint8Array> {
  if (sealed.length < 28) throw new Error('sealed message too short');
  const key = await derive(secret, `seal/${context}`, 'AES-GCM');
  const pt = await subtle.decrypt({ name: 'AES-GCM', iv: sealed.slice(0, 12), additionalData: encoder.encode(aad) }, key, sealed.slice(12));
  return new Uint8Array(pt);
}

export function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** t-of-n Shamir shares of a secret (each share is the secret's length + 1 bytes). */
export function shareSecret(secret: Uint8Array, n: number, t: number): Promise<Uint8Array[]> {
  return split(secret, n, t);
}

/** The secret from at least t of its shares. */
export function recoverSecret(shares: Uint8Array[]): Promise<Uint8Array> {
  return combine(shares);
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
}
