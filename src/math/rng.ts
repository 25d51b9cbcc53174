/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32).
 * Every random choice in fedrec draws from an `Rng` built from an explicit seed, so the same seed
 * gives the same run. `Rng.derive(seed, ...labels)` gives independent named streams, e.g. the
 * evaluation-negative stream never shares state with the training-negative stream.
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a hash of a string, used to turn stream labels into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  /**
   * The four 32-bit state words a, b, c, d. In an Int32Array rather than four fields: V8 keeps a
   * field that outgrows a small integer as a boxed double, which made every draw about 2.5× slower.
   * Same arithmetic on the same 32 bits, so the same stream.
   */
  private readonly s = new Int32Array(4);
  private spareNormal: number | null = null;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    const s = this.s;
    s[0] = splitmix32(st);
    s[1] = splitmix32(st);
    s[2] = splitmix32(st);
    s[3] = splitmix32(st);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[3] = 1;
  }

  /** An independent stream for `seed` and a path of labels (strings or numbers). */
  static derive(seed: number, ...labels: Array<string | number>): Rng {
    let h = hashString(String(seed));
    for (const label of labels) h = hashString(`${h}/${label}`);
    return new Rng(h);
  }

  /** A copy of the four xoshiro128** state words a, b, c, d (a kernel that continues the stream starts from them). */
  stateWords(): Int32Array {
    return this.s.slice();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const a = s[0];
    const b = s[1];
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    const c = s[2] ^ a;
    const d = s[3] ^ b;
    s[1] = b ^ c;
    s[0] = a ^ d;
    s[2] = c ^ t;
    s[3] = rotl(d, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal deviate (Box–Muller, caching the spare). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Laplace(0, scale) deviate. */
  laplace(scale: number): number {
    const u = this.next() - 0.5;
    return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
