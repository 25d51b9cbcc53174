/**
 * The seeded RNG's stream is fixed: the values recorded from the implementation with four state
 * fields (before the state moved into an Int32Array), and the same stream as that implementation
 * (kept here as the reference) for many seeds, derived streams and every kind of draw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashString, Rng } from './rng.js';

/** xoshiro128** with the state in four fields: the implementation the Int32Array state replaced. */
class FieldRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    const mix = (): number => {
      st.s = (st.s + 0x9e3779b9) | 0;
      let z = st.s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  nextU32(): number {
    const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }
}

test('Rng: the recorded stream', () => {
  const r = new Rng(42);
  assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()], [2837322924, 544945897, 479756282, 3500138142]);
  const d = Rng.derive(7, 'client', 3);
  assert.deepEqual(Array.from({ length: 5 }, () => d.int(1682)), [678, 1026, 1275, 1629, 1106]);
  const z = new Rng(0);
  assert.deepEqual([z.nextU32(), z.normal(), z.normal(), z.laplace(2)], [3809008728, 1.6271416252085351, 0.12780154218383077, 0.8507429371275869]);
  let h = 0;
  const q = new Rng(123);
  for (let i = 0; i < 100_000; i++) h = (Math.imul(h, 31) + q.nextU32()) | 0;
  assert.equal(h, -1632328194);
});

test('Rng: the same stream as the four-field implementation, for many seeds and derived streams', () => {
  const seeds = [0, 1, -1, 42, 0x7fffffff, -0x80000000, 0xffffffff, hashString('client/17'), 123456789];
  for (const seed of seeds) {
    const a = new Rng(seed);
    const b = new FieldRng(seed);
    for (let i = 0; i < 20_000; i++) assert.equal(a.nextU32(), b.nextU32(), `seed ${seed}, draw ${i}`);
  }
  for (let c = 0; c < 50; c++) {
    const a = Rng.derive(42, 'client', c);
    let h = hashString('42');
    for (const label of ['client', c]) h = hashString(`${h}/${label}`);
    const b = new FieldRng(h);
    for (let i = 0; i < 1000; i++) {
      const n = 1 + ((i * 7919) % 5000);
      assert.equal(a.int(n), Math.floor((b.nextU32() / 4294967296) * n), `client ${c}, draw ${i}`);
    }
  }
});
