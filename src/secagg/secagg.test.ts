/**
 * Secure aggregation's core, driven directly (no transport): the unmasked sum equals the plain
 * ring sum of the contributors' inputs bit for bit, with 30 % of the clients dropping out before
 * each phase in turn (SecAgg and SecAgg+); too few clients abort; the coordinator's view of one
 * masked input tells nothing about it; fixed-point encoding decodes within its stated bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addInto, decodeSum, encodeUpdate, valueScale, vectorLength, type Encoding } from './fixed-point.js';
import { neighboursOf, shareThreshold } from './graph.js';
import { runLocalRound } from './local-round.js';
import { PHASES, type SecAggPhase, type SecAggSettings } from './types.js';
import { agree, generateAgreementKeys, keysFromScalar, open, privateScalar, recoverSecret, seal, shareSecret } from './crypto.js';

function randomInputs(ids: readonly number[], words: number, seed: number): Map<number, Uint32Array> {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return new Map(ids.map((id) => [id, Uint32Array.from({ length: words }, next)]));
}

function plainSum(inputs: ReadonlyMap<number, Uint32Array>, ids: readonly number[], words: number): Uint32Array {
  const sum = new Uint32Array(words);
  for (const id of ids) addInto(sum, inputs.get(id) as Uint32Array);
  return sum;
}

const ids = Array.from({ length: 10 }, (_, k) => k * 3 + 1);
const WORDS = 514;

for (const neighbours of [null, 4] as const) {
  const n = neighbours === null ? ids.length : 14;
  const all = Array.from({ length: n }, (_, k) => k * 3 + 1);
  const settings: SecAggSettings = { round: 7, threshold: shareThreshold(0.6, all.length, neighbours), neighbours, vectorLength: WORDS };
  const label = neighbours === null ? `SecAgg (complete graph, n ${n}, t ${settings.threshold})` : `SecAgg+ (k ${neighbours}, n ${n}, t ${settings.threshold})`;

  test(`${label}: no drop-out, the sum is exact`, async () => {
    const inputs = randomInputs(all, WORDS, 1);
    const r = await runLocalRound(settings, inputs);
    assert.equal(r.abort, null);
    assert.deepEqual(r.contributors, all);
    assert.deepEqual(r.sum, plainSum(inputs, all, WORDS));
  });

  for (const phase of PHASES) {
    test(`${label}: ${neighbours === null ? '3 of 10 (30 %)' : '3 of 14 (21 %), at most 2 of a neighbourhood of 5'} drop out before the ${phase} phase, the sum holds exactly the survivors' inputs`, async () => {
      const inputs = randomInputs(all, WORDS, 2);
      const dropping = neighbours === null ? all.filter((_, k) => k % 3 === 1) : all.filter((_, k) => k % 4 === 2);
      assert.ok(dropping.length >= Math.floor(0.28 * all.length), `${dropping.length} of ${all.length} drop`);
      const r = await runLocalRound(settings, inputs, new Map(dropping.map((id) => [id, phase as SecAggPhase])));
      assert.equal(r.abort, null, r.abort ?? '');
      // dropping before unmask still leaves the input in the sum (it was sent); before masked, not
      const expected = phase === 'unmask' ? all : all.filter((id) => !dropping.includes(id));
      assert.deepEqual(r.contributors, expected);
      assert.deepEqual(r.sum, plainSum(inputs, expected, WORDS));
    });
  }
}

test('fewer than t survivors: the round aborts with a reason, no sum', async () => {
  const settings: SecAggSettings = { round: 3, threshold: 6, neighbours: null, vectorLength: 32 };
  const inputs = randomInputs(ids, 32, 3);
  for (const phase of PHASES) {
    const r = await runLocalRound(settings, inputs, new Map(ids.slice(0, 5).map((id) => [id, phase])));
    assert.equal(r.sum, null);
    assert.match(r.abort ?? '', /threshold is 6|6 needed/);
  }
});

test('a masked input is uniformly distributed: it does not reveal a sparse input', async () => {
  const settings: SecAggSettings = { round: 1, threshold: 3, neighbours: null, vectorLength: 4096 };
  const inputs = new Map([1, 2, 3, 4].map((id) => [id, new Uint32Array(4096)]));
  (inputs.get(1) as Uint32Array).fill(5, 0, 10);
  const r = await runLocalRound(settings, inputs);
  const y = r.masked.get(1) as Uint32Array;
  const zeros = y.filter((x) => x === 0).length;
  const highBit = y.filter((x) => x >= 2 ** 31).length;
  assert.ok(zeros <= 2, `${zeros} zero words`);
  assert.ok(Math.abs(highBit / y.length - 0.5) < 0.05, `high bit set in ${highBit} of ${y.length}`);
});

test('neighbour graph: symmetric, k-regular, complete when k ≥ n − 1', () => {
  const roster = Array.from({ length: 11 }, (_, k) => 2 * k);
  for (const id of roster) {
    const nb = neighboursOf(roster, id, 4);
    assert.equal(nb.length, 4);
    for (const v of nb) assert.ok(neighboursOf(roster, v, 4).includes(id));
  }
  assert.equal(neighboursOf(roster, 0, 10).length, 10);
  assert.equal(neighboursOf(roster, 0, null).length, 10);
  assert.equal(shareThreshold(0.6, 20, null), 12);
  assert.equal(shareThreshold(0.6, 1000, 40), 25);
});

test('primitives: ECDH agrees both ways and from a recovered scalar; AES-GCM refuses a wrong context; Shamir needs t shares', async () => {
  const a = await generateAgreementKeys();
  const b = await generateAgreementKeys();
  const ab = await agree(a, b.publicKey);
  assert.deepEqual(ab, await agree(b, a.publicKey));
  const shares = await shareSecret(await privateScalar(a), 5, 3);
  const rebuilt = await keysFromScalar(await recoverSecret(shares.slice(1, 4)), a.publicKey);
  assert.deepEqual(await agree(rebuilt, b.publicKey), ab);
  assert.notDeepEqual(await recoverSecret(shares.slice(0, 2)), await privateScalar(a));
  const sealed = await seal(ab, 'ctx', new Uint8Array([1, 2, 3]), 'aad');
  assert.deepEqual(await open(ab, 'ctx', sealed, 'aad'), new Uint8Array([1, 2, 3]));
  await assert.rejects(open(ab, 'ctx', sealed, 'other aad'));
});

test('fixed point: the decoded sum is within n / (2·scale) of the float sum; clipping bounds every value', () => {
  const e: Encoding = { tables: [{ name: 'itemEmb', rows: 5, cols: 2, item: true }, { name: 'w', rows: 1, cols: 3, item: false }], nItems: 5, participants: 3, clip: 4, weighting: 'examples' };
  const updates = [
    { round: 1, weight: 3, rows: Int32Array.from([0, 3]), itemTables: { itemEmb: Float32Array.from([0.1, -0.2, 0.3, 0.05]) }, denseTables: { w: Float32Array.from([0.01, 0.02, -0.5]) }, loss: 0.7 },
    { round: 1, weight: 2, rows: Int32Array.from([3]), itemTables: { itemEmb: Float32Array.from([-0.25, 0.125]) }, denseTables: { w: Float32Array.from([0, 0, 9]) }, loss: 0.5 },
  ];
  const sum = new Uint32Array(vectorLength(e));
  let clipped = 0;
  for (const u of updates) {
    const enc = encodeUpdate(e, u);
    clipped += enc.clipped;
    addInto(sum, enc.vector);
  }
  assert.equal(clipped, 1, 'w[2] = 2 · 9 is clipped to 4');
  const d = decodeSum(e, sum);
  const bound = e.participants / (2 * valueScale(e));
  const expectEmb = [0.3, -0.6, 0, 0, 0, 0, 0.9 - 0.5, 0.15 + 0.25, 0, 0];
  expectEmb.forEach((v, k) => assert.ok(Math.abs(d.sums.itemEmb[k] - v) <= bound + 1e-7, `itemEmb[${k}] ${d.sums.itemEmb[k]} vs ${v}`));
  assert.ok(Math.abs(d.sums.w[2] - (-1.5 + 4)) <= bound + 1e-7);
  assert.deepEqual([...d.rowWeight], [3, 0, 0, 5, 0]);
  assert.equal(d.totalWeight, 5);
  assert.equal(d.clients, 2);
  assert.ok(Math.abs(d.lossSum / d.totalWeight - 0.62) < 1e-6, 'weighted mean loss');
});
