/**
 * The coordinator's side of a secure-aggregation round (Bonawitz et al., CCS 2017; SecAgg+
 * neighbourhoods, Bell et al., CCS 2020), a transport-free state machine. It relays and sums; it
 * never holds a client's input in the clear:
 *  keys    U1 = clients that advertised (c_pk, s_pk)        → each gets the roster (its neighbours' keys)
 *  shares  U2 = clients of U1 that sent encrypted shares     → each gets the ciphertexts addressed to it
 *  masked  U3 = clients of U2 that sent y_u (summed at once) → each gets U3 and D = U2 \ U3
 *  unmask  U4 = clients of U3 that sent shares               → b_u of every u ∈ U3 and s_sk_u of every
 *          u ∈ D are recovered from ≥ t shares; Σ y − Σ PRG(b_u) − the masks the survivors shared
 *          with D leaves Σ_{u ∈ U3} x_u.
 * A phase closes when every client of the previous set answered, or when the caller closes it (a
 * deadline); fewer than t clients at any close aborts the round (`SecAggAbort`). The state after any
 * sequence of accepted messages and closes is a function of them alone, so replaying the stored
 * messages rebuilds it after a crash.
 */
import { agree, expandMask, keysFromScalar, recoverSecret } from './crypto.js';
import { pairContext, selfContext } from './client.js';
import { addInto, subtractInto } from './fixed-point.js';
import { neighboursOf } from './graph.js';
import { SecAggAbort, SecAggRefusal, type ClientView, type KeysMessage, type SecAggPhase, type SecAggSettings, type SharesMessage, type UnmaskMessage } from './types.js';

const POINT_BYTES = 65;

export class SecAggServer {
  phase: SecAggPhase = 'keys';
  private readonly keys = new Map<number, KeysMessage>();
  private roster: number[] = [];
  private readonly neighbours = new Map<number, number[]>();
  private readonly shares = new Map<number, SharesMessage>();
  private sharers: number[] = [];
  private readonly maskedFrom = new Set<number>();
  private sum: Uint32Array;
  private survivors: number[] = [];
  private dropped: number[] = [];
  private readonly unmasks = new Map<number, UnmaskMessage>();
  private finished = false;

  constructor(
    readonly settings: SecAggSettings,
    /** The clients planned for the round (they may advertise keys). */
    readonly planned: readonly number[],
  ) {
    this.sum = new Uint32Array(settings.vectorLength);
  }

  /** Clients whose message the open phase waits for. */
  expected(): readonly number[] {
    switch (this.phase) {
      case 'keys': return this.planned;
      case 'shares': return this.roster;
      case 'masked': return this.sharers;
      case 'unmask': return this.survivors;
    }
  }

  /** Messages received in the open phase. */
  received(): number {
    switch (this.phase) {
      case 'keys': return this.keys.size;
      case 'shares': return this.shares.size;
      case 'masked': return this.maskedFrom.size;
      case 'unmask': return this.unmasks.size;
    }
  }

  /** Every expected client has answered the open phase. */
  complete(): boolean {
    return this.received() >= this.expected().length;
  }

  /** The sets so far (for logs, metrics and the round's result). */
  counts(): { planned: number; advertised: number; shared: number; masked: number; unmasked: number } {
    return { planned: this.planned.length, advertised: this.keys.size, shared: this.shares.size, masked: this.maskedFrom.size, unmasked: this.unmasks.size };
  }

  /** The clients whose inputs the sum holds (U3), once the masked phase closed. */
  contributors(): readonly number[] {
    return this.survivors;
  }

  private expect(phase: SecAggPhase, id: number, has: boolean): void {
    if (this.phase !== phase) throw new SecAggRefusal(409, 'phase-closed', `the ${phase} phase of round ${this.settings.round} is closed (now: ${this.phase})`);
    if (!this.expected().includes(id)) throw new SecAggRefusal(403, 'not-a-participant', `client ${id} is not a participant of the ${phase} phase of round ${this.settings.round}`);
    if (has) throw new SecAggRefusal(409, 'duplicate', `client ${id} already sent its ${phase} message for round ${this.settings.round}`);
  }

  /** Check a message without changing anything (so it can be stored first, then applied). */
  checkKeys(id: number, m: KeysMessage): void {
    this.expect('keys', id, this.keys.has(id));
    if (m.cPk.length !== POINT_BYTES || m.sPk.length !== POINT_BYTES || m.cPk[0] !== 4 || m.sPk[0] !== 4) {
      throw new SecAggRefusal(422, 'bad-key', 'public keys must be uncompressed P-256 points (65 bytes, first byte 4)');
    }
    if (bytesEqual(m.cPk, m.sPk)) throw new SecAggRefusal(422, 'bad-key', 'the two public keys must differ');
  }

  addKeys(id: number, m: KeysMessage): void {
    this.checkKeys(id, m);
    this.keys.set(id, m);
  }

  closeKeys(): void {
    this.requirePhase('keys');
    this.roster = [...this.keys.keys()].sort((a, b) => a - b);
    this.need(this.roster.length, 'advertised keys');
    for (const id of this.roster) this.neighbours.set(id, neighboursOf(this.roster, id, this.settings.neighbours));
    this.phase = 'shares';
  }

  checkShares(id: number, m: SharesMessage): void {
    this.expect('shares', id, this.shares.has(id));
    const want = this.neighbours.get(id) as number[];
    if (m.shares.size !== want.length || want.some((v) => !m.shares.has(v))) {
      throw new SecAggRefusal(422, 'bad-shares', `client ${id} must send one encrypted share to each of its ${want.length} neighbours (${want.join(', ')})`);
    }
    for (const [v, ct] of m.shares) if (ct.length < 28 || ct.length > 4096) throw new SecAggRefusal(422, 'bad-shares', `share for client ${v}: ${ct.length} bytes is not a sealed share`);
  }

  addShares(id: number, m: SharesMessage): void {
    this.checkShares(id, m);
    this.shares.set(id, m);
  }

  closeShares(): void {
    this.requirePhase('shares');
    this.sharers = [...this.shares.keys()].sort((a, b) => a - b);
    this.need(this.sharers.length, 'shared their keys');
    this.phase = 'masked';
  }

  checkMasked(id: number, y: Uint32Array): void {
    this.expect('masked', id, this.maskedFrom.has(id));
    if (y.length !== this.settings.vectorLength) throw new SecAggRefusal(422, 'shape', `masked input of ${y.length} words, the round expects ${this.settings.vectorLength}`);
  }

  /** Fold a masked input into the running sum (nothing per client is kept). */
  addMasked(id: number, y: Uint32Array): void {
    this.checkMasked(id, y);
    addInto(this.sum, y);
    this.maskedFrom.add(id);
  }

  closeMasked(): void {
    this.requirePhase('masked');
    this.survivors = [...this.maskedFrom].sort((a, b) => a - b);
    this.dropped = this.sharers.filter((u) => !this.maskedFrom.has(u));
    this.need(this.survivors.length, 'sent masked input');
    const floor = this.settings.minSurvivors ?? 0;
    if (this.survivors.length < floor) throw new SecAggAbort(`round ${this.settings.round}: only ${this.survivors.length} clients sent masked input, the DP floor is ${floor} (fewer noise shares than the accountant charged)`);
    this.phase = 'unmask';
  }

  checkUnmask(id: number, m: UnmaskMessage): void {
    this.expect('unmask', id, this.unmasks.has(id));
    const mine = new Set([id, ...(this.neighbours.get(id) as number[])]);
    for (const u of m.selfShares.keys()) if (!mine.has(u) || !this.maskedFrom.has(u)) throw new SecAggRefusal(422, 'bad-unmask', `a self-mask share for client ${u}, which is not a surviving neighbour`);
    for (const u of m.keyShares.keys()) if (!mine.has(u) || !this.dropped.includes(u)) throw new SecAggRefusal(422, 'bad-unmask', `a key share for client ${u}, which is not a dropped neighbour`);
  }

  addUnmask(id: number, m: UnmaskMessage): void {
    this.checkUnmask(id, m);
    this.unmasks.set(id, m);
  }

  /** Close the unmask phase: remove every mask and return Σ_{u ∈ U3} x_u (mod 2^32). */
  async finish(): Promise<Uint32Array> {
    this.requirePhase('unmask');
    if (this.finished) throw new Error('secure round finished already');
    const { round, threshold, vectorLength } = this.settings;
    this.need(this.unmasks.size, 'answered the unmask phase');
    const collect = (u: number, pick: (m: UnmaskMessage) => ReadonlyMap<number, Uint8Array>): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (const [, m] of [...this.unmasks].sort((a, b) => a[0] - b[0])) {
        const s = pick(m).get(u);
        if (s) out.push(s);
      }
      if (out.length < threshold) throw new SecAggAbort(`round ${round}: only ${out.length} shares for client ${u}, ${threshold} needed`);
      return out.slice(0, threshold);
    };
    const sum = this.sum.slice();
    for (const u of this.survivors) {
      const seed = await recoverSecret(collect(u, (m) => m.selfShares));
      subtractInto(sum, await expandMask(seed, selfContext(round), vectorLength));
    }
    for (const u of this.dropped) {
      const scalar = await recoverSecret(collect(u, (m) => m.keyShares));
      const sKeys = await keysFromScalar(scalar, (this.keys.get(u) as KeysMessage).sPk);
      for (const v of this.neighbours.get(u) as number[]) {
        if (!this.maskedFrom.has(v)) continue;
        // v added +mask when v < u, −mask otherwise: take it back out
        const mask = await expandMask(await agree(sKeys, (this.keys.get(v) as KeysMessage).sPk), pairContext(round), vectorLength);
        if (v < u) subtractInto(sum, mask);
        else addInto(sum, mask);
      }
    }
    this.finished = true;
    return sum;
  }

  /** What client `id` needs to take its next step. */
  viewFor(id: number): ClientView {
    const { round } = this.settings;
    const out = (reason: string): ClientView => ({ phase: 'excluded', reason });
    switch (this.phase) {
      case 'keys':
        if (!this.planned.includes(id)) return out(`client ${id} is not a participant of round ${round}`);
        return this.keys.has(id) ? { phase: 'finished', reason: 'keys received; waiting for the others' } : { phase: 'keys' };
      case 'shares': {
        if (!this.keys.has(id)) return out(`client ${id} did not advertise keys in time for round ${round}`);
        if (this.shares.has(id)) return { phase: 'finished', reason: 'shares received; waiting for the others' };
        const keys = new Map<number, KeysMessage>();
        for (const v of this.neighbours.get(id) as number[]) keys.set(v, this.keys.get(v) as KeysMessage);
        return { phase: 'shares', roster: { ids: this.roster, keys } };
      }
      case 'masked': {
        if (!this.shares.has(id)) return out(`client ${id} did not share its keys in time for round ${round}`);
        if (this.maskedFrom.has(id)) return { phase: 'finished', reason: 'masked input received; waiting for the others' };
        const incoming = new Map<number, Uint8Array>();
        for (const u of this.neighbours.get(id) as number[]) {
          const ct = this.shares.get(u)?.shares.get(id);
          if (ct) incoming.set(u, ct);
        }
        return { phase: 'masked', incoming };
      }
      case 'unmask':
        if (!this.maskedFrom.has(id)) return out(`client ${id} did not send its masked input in time for round ${round}`);
        if (this.unmasks.has(id)) return { phase: 'finished', reason: 'unmask shares received; waiting for the others' };
        return { phase: 'unmask', survivors: this.survivors, dropped: this.dropped };
    }
  }

  private requirePhase(phase: SecAggPhase): void {
    if (this.phase !== phase) throw new Error(`cannot close the ${phase} phase: the open phase is ${this.phase}`);
  }

  private need(count: number, what: string): void {
    if (count < this.settings.threshold) {
      throw new SecAggAbort(`round ${this.settings.round}: only ${count} clients ${what}, the threshold is ${this.settings.threshold}`);
    }
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
