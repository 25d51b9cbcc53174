/**
 * Gradients of NCL's structural (normalised targets) and prototype (constant centroids) InfoNCE by
 * finite differences; the blocked kernel path against a plain double-precision implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../math/rng.js';
import { infoNce, type InfoNceInput } from './info-nce.js';

const dim = 4;

function check(input: InfoNceInput, withTargets: boolean): void {
  const gA = new Float32Array(input.anchors.length);
  const gT = withTargets ? new Float32Array(input.targets.length) : null;
  infoNce(input, { anchors: gA, targets: gT });
  const lossWith = (anchors: Float32Array, targets: Float32Array) =>
    infoNce({ ...input, anchors, targets }, { anchors: new Float32Array(anchors.length), targets: null });
  const h = 1e-3;
  const probe = (which: 'anchors' | 'targets', grad: Float32Array) => {
    for (let k = 0; k < grad.length; k++) {
      const plus = input[which].slice(); plus[k] += h;
      const minus = input[which].slice(); minus[k] -= h;
      const numeric = which === 'anchors'
        ? (lossWith(plus, input.targets) - lossWith(minus, input.targets)) / (2 * h)
        : (lossWith(input.anchors, plus) - lossWith(input.anchors, minus)) / (2 * h);
      assert.ok(Math.abs(numeric - grad[k]) < 2e-2 * Math.max(1, Math.abs(grad[k])), `${which}[${k}]: numeric ${numeric} vs analytic ${grad[k]}`);
    }
  };
  probe('anchors', gA);
  if (gT) probe('targets', gT);
}

test('structural InfoNCE (normalised anchors and targets, weights, repeated positives): gradients match finite differences', () => {
  const rng = new Rng(11);
  const anchors = Float32Array.from({ length: 3 * dim }, () => rng.normal());
  const targets = Float32Array.from({ length: 5 * dim }, () => rng.normal());
  check({ dim, anchors, targets, normalizeTargets: true, positive: Int32Array.from([0, 3, 3]), weight: Float32Array.from([1, 2, 0.5]), temperature: 0.5 }, true);
});

test('prototype InfoNCE (constant normalised centroids): anchor gradients match finite differences', () => {
  const rng = new Rng(12);
  const anchors = Float32Array.from({ length: 4 * dim }, () => rng.normal());
  const centroids = Float32Array.from({ length: 3 * dim }, () => rng.normal());
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(...centroids.subarray(c * dim, (c + 1) * dim));
    for (let f = 0; f < dim; f++) centroids[c * dim + f] /= n;
  }
  check({ dim, anchors, targets: centroids, normalizeTargets: false, positive: Int32Array.from([2, 0, 1, 2]), weight: Float32Array.from([1, 1, 3, 1]), temperature: 0.2 }, false);
});

/** Loss and gradients of the structural InfoNCE by the definition, in double precision. */
function reference(input: InfoNceInput): { loss: number; gA: Float64Array; gT: Float64Array } {
  const { dim: d, anchors, targets, positive, weight, temperature: tau } = input;
  const nA = anchors.length / d;
  const nT = targets.length / d;
  const unit = (x: Float32Array, r: number) => {
    const v = Array.from(x.subarray(r * d, (r + 1) * d));
    const n = Math.hypot(...v);
    return { v: v.map((e) => e / n), n };
  };
  const T = Array.from({ length: nT }, (_, j) => unit(targets, j));
  const gA = new Float64Array(anchors.length);
  const gT = new Float64Array(targets.length);
  const gTHat = Array.from({ length: nT }, () => new Float64Array(d));
  let loss = 0;
  for (let a = 0; a < nA; a++) {
    const A = unit(anchors, a);
    const logits = T.map((t) => t.v.reduce((s, e, f) => s + e * A.v[f], 0) / tau);
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((s, x) => s + x, 0);
    loss += weight[a] * (max + Math.log(sum) - logits[positive[a]]);
    const gAHat = new Float64Array(d);
    for (let j = 0; j < nT; j++) {
      const g = (weight[a] * (e[j] / sum - (j === positive[a] ? 1 : 0))) / tau;
      for (let f = 0; f < d; f++) {
        gAHat[f] += g * T[j].v[f];
        gTHat[j][f] += g * A.v[f];
      }
    }
    const proj = A.v.reduce((s, x, f) => s + x * gAHat[f], 0);
    for (let f = 0; f < d; f++) gA[a * d + f] = (gAHat[f] - A.v[f] * proj) / A.n;
  }
  for (let j = 0; j < nT; j++) {
    const proj = T[j].v.reduce((s, x, f) => s + x * gTHat[j][f], 0);
    for (let f = 0; f < d; f++) gT[j * d + f] = (gTHat[j][f] - T[j].v[f] * proj) / T[j].n;
  }
  return { loss, gA, gT };
}

test('structural InfoNCE over many targets (anchors in several blocks) matches the plain definition', () => {
  const rng = new Rng(13);
  const nA = 10;
  const nT = 40001; // logit blocks of 4 anchor rows: three blocks
  const input: InfoNceInput = {
    dim, anchors: Float32Array.from({ length: nA * dim }, () => rng.normal()), targets: Float32Array.from({ length: nT * dim }, () => rng.normal()),
    normalizeTargets: true, positive: Int32Array.from({ length: nA }, (_, a) => (a * 7919) % nT), weight: Float32Array.from({ length: nA }, (_, a) => 1 + (a % 3)), temperature: 0.1,
  };
  const gA = new Float32Array(nA * dim);
  const gT = new Float32Array(nT * dim);
  const loss = infoNce(input, { anchors: gA, targets: gT });
  const ref = reference(input);
  assert.ok(Math.abs(loss - ref.loss) < 1e-4 * Math.abs(ref.loss), `loss ${loss} vs ${ref.loss}`);
  const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) < 1e-4 + 1e-3 * Math.abs(y), `${what}: ${x} vs ${y}`);
  gA.forEach((g, k) => close(g, ref.gA[k], `anchors[${k}]`));
  gT.forEach((g, k) => close(g, ref.gT[k], `targets[${k}]`));
});

test('InfoNCE value by hand: two targets, anchor on the positive', () => {
  // â = t̂_0 = e1, t̂_1 = e2: logits 1/τ and 0 → loss = log(1 + e^{-1/τ})
  const anchors = Float32Array.from([2, 0, 0, 0]);
  const targets = Float32Array.from([3, 0, 0, 0, 0, 1, 0, 0]);
  const loss = infoNce(
    { dim, anchors, targets, normalizeTargets: true, positive: Int32Array.from([0]), weight: Float32Array.from([1]), temperature: 0.5 },
    { anchors: new Float32Array(4), targets: null },
  );
  assert.ok(Math.abs(loss - Math.log(1 + Math.exp(-2))) < 1e-6);
});

test('InfoNCE rejects a positive outside the targets', () => {
  assert.throws(() => infoNce(
    { dim, anchors: new Float32Array(4).fill(1), targets: new Float32Array(4).fill(1), normalizeTargets: true, positive: Int32Array.from([1]), weight: Float32Array.from([1]), temperature: 0.1 },
    { anchors: new Float32Array(4), targets: null },
  ), /positive 1 of anchor 0 outside \[0, 1\)/);
});
