/**
 * One client's side of a secure-aggregation round (Bonawitz et al., CCS 2017, Fig. 4, honest-but-
 * curious version; SecAgg+ neighbourhoods from Bell et al., CCS 2020). A transport-free state
 * machine: each step takes what the coordinator relayed and returns the message to send.
 *  0. advertise: two fresh P-256 key pairs, (c_pk, s_pk) public;
 *  1. share keys: a fresh self-mask seed b_u; t-of-(k+1) Shamir shares of b_u and of s_sk; one
 *     share pair per neighbour, AES-GCM-encrypted under the key agreed with its c_pk (the
 *     coordinator relays ciphertexts it cannot read), one kept;
 *  2. masked input: y = x + PRG(b_u) + Σ_{v neighbour that shared} ±PRG(KA(s_sk_u, s_pk_v)) mod 2^32
 *     (+ when u < v, − otherwise, so each pair cancels in the sum);
 *  3. unmask: for each neighbour that sent masked input, its share of b; for each that did not,
 *     its share of s_sk — never both for the same client, checked here.
 */
import { agree, expandMask, generateAgreementKeys, open, privateScalar, randomBytes, seal, shareSecret, type AgreementKeys } from './crypto.js';
import { addInto, subtractInto } from './fixed-point.js';
import { neighboursOf } from './graph.js';
import type { KeysMessage, Roster, SecAggSettings, SharesMessage, UnmaskMessage } from './types.js';

export const shareContext = (round: number): string => `share/round-${round}`;
export const shareAad = (round: number, from: number, to: number): string => `round ${round}: ${from} -> ${to}`;
export const pairContext = (round: number): string => `pair/round-${round}`;
export const selfContext = (round: number): string => `self/round-${round}`;

interface HeldShares {
  readonly key: Uint8Array;
  readonly self: Uint8Array;
}

export class SecAggClient {
  private cKeys: AgreementKeys | null = null;
  private sKeys: AgreementKeys | null = null;
  private roster: Roster | null = null;
  private neighbours: number[] = [];
  private selfSeed: Uint8Array | null = null;
  /** Shares this client holds, by the client they belong to (itself included). */
  private held = new Map<number, HeldShares>();
  private sharedWithMe: number[] = [];
  private maskedSent = false;
  private unmasked = false;

  constructor(
    readonly id: number,
    readonly settings: SecAggSettings,
  ) {}

  async advertise(): Promise<KeysMessage> {
    this.cKeys ??= await generateAgreementKeys();
    this.sKeys ??= await generateAgreementKeys();
    return { cPk: this.cKeys.publicKey, sPk: this.sKeys.publicKey };
  }

  async shareKeys(roster: Roster): Promise<SharesMessage> {
    const { round, threshold, neighbours: degree } = this.settings;
    if (!this.cKeys || !this.sKeys) throw new Error('share keys before advertising them');
    if (!roster.ids.includes(this.id)) throw new Error(`client ${this.id} is not in the roster of round ${round}`);
    if (roster.ids.length < threshold) throw new Error(`roster of ${roster.ids.length} clients is below the threshold ${threshold}`);
    this.roster = roster;
    this.neighbours = neighboursOf(roster.ids, this.id, degree);
    const group = this.neighbours.length + 1;
    if (group < threshold) throw new Error(`${group} clients in the neighbourhood, below the threshold ${threshold}`);
    this.selfSeed = randomBytes(32);
    const keyShares = await shareSecret(await privateScalar(this.sKeys), group, threshold);
    const selfShares = await shareSecret(this.selfSeed, group, threshold);
    this.held.set(this.id, { key: keyShares[0], self: selfShares[0] });
    const out = new Map<number, Uint8Array>();
    for (let j = 0; j < this.neighbours.length; j++) {
      const v = this.neighbours[j];
      const peer = roster.keys.get(v);
      if (!peer) throw new Error(`the roster lacks the keys of neighbour ${v}`);
      const plain = concat([keyShares[j + 1], selfShares[j + 1]]);
      out.set(v, await seal(await agree(this.cKeys, peer.cPk), shareContext(round), plain, shareAad(round, this.id, v)));
    }
    return { shares: out };
  }

  /** The masked input, given the ciphertexts the coordinator relayed to this client. */
  async maskedInput(incoming: ReadonlyMap<number, Uint8Array>, input: Uint32Array): Promise<Uint32Array> {
    const { round, vectorLength } = this.settings;
    if (!this.cKeys || !this.sKeys || !this.roster || !this.selfSeed) throw new Error('masked input before sharing keys');
    if (input.length !== vectorLength) throw new Error(`input of ${input.length} words, the round expects ${vectorLength}`);
    if (this.maskedSent) throw new Error('masked input already computed for this round');
    const allowed = new Set(this.neighbours);
    const y = input.slice();
    addInto(y, await expandMask(this.selfSeed, selfContext(round), vectorLength));
    const senders = [...incoming.keys()].sort((a, b) => a - b);
    for (const u of senders) {
      if (!allowed.has(u)) throw new Error(`relayed shares from client ${u}, which is not a neighbour`);
      const peer = this.roster.keys.get(u) as KeysMessage;
      const plain = await open(await agree(this.cKeys, peer.cPk), shareContext(round), incoming.get(u) as Uint8Array, shareAad(round, u, this.id));
      const half = plain.length / 2;
      this.held.set(u, { key: plain.subarray(0, half), self: plain.subarray(half) });
      const mask = await expandMask(await agree(this.sKeys, peer.sPk), pairContext(round), vectorLength);
      if (this.id < u) addInto(y, mask);
      else subtractInto(y, mask);
    }
    this.sharedWithMe = senders;
    this.maskedSent = true;
    return y;
  }

  /** The shares that let the coordinator remove the masks of `survivors` and `dropped` neighbours. */
  unmask(survivors: readonly number[], dropped: readonly number[]): UnmaskMessage {
    const { threshold } = this.settings;
    if (!this.maskedSent) throw new Error('unmask before sending masked input');
    if (this.unmasked) throw new Error('unmask answered already for this round');
    const alive = new Set(survivors);
    if (!alive.has(this.id)) throw new Error(`client ${this.id} is not among the survivors it is asked to unmask`);
    if (alive.size < threshold) throw new Error(`${alive.size} survivors, below the threshold ${threshold}: refusing to unmask`);
    const floor = this.settings.minSurvivors ?? 0;
    if (alive.size < floor) throw new Error(`${alive.size} survivors, below the DP floor ${floor}: refusing to unmask`);
    const selfShares = new Map<number, Uint8Array>();
    const keyShares = new Map<number, Uint8Array>();
    const known = new Set([this.id, ...this.sharedWithMe]);
    for (const u of dropped) {
      if (alive.has(u)) throw new Error(`client ${u} is listed both as survivor and as dropped`);
      if (known.has(u)) keyShares.set(u, (this.held.get(u) as HeldShares).key);
    }
    for (const u of survivors) if (known.has(u)) selfShares.set(u, (this.held.get(u) as HeldShares).self);
    this.unmasked = true;
    return { selfShares, keyShares };
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
