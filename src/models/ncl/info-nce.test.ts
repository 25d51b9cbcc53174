/** Gradients of NCL's structural (normalised targets) and prototype (constant centroids) InfoNCE by finite differences. */
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
