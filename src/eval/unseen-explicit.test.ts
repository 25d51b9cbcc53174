/** Rating baselines for unseen users, checked against values computed by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateUnseenExplicit, ratingBaselines, type UnseenUser } from './unseen-explicit.js';

// training users: item 0 rated 5 and 3, item 1 rated 2; μ = 10/3
const training = [
  { items: Int32Array.of(0, 1), ratings: Float32Array.of(5, 2) },
  { items: Int32Array.of(0), ratings: Float32Array.of(3) },
];
const user: UnseenUser = {
  user: 7,
  reconstruction: { items: Int32Array.of(1), ratings: Float32Array.of(4) },
  evaluation: { items: Int32Array.of(0, 2), ratings: Float32Array.of(4, 1) },
};
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} ≠ ${b}`);

test('global mean, item mean (μ for unrated items) and damped user+item bias', () => {
  const b = ratingBaselines(training, 3, { itemDamping: 1, userDamping: 2 });
  const out = new Float32Array(2);
  const mu = 10 / 3;
  b.globalMean.predict(user, out);
  close(out[0], mu);
  b.itemMean.predict(user, out);
  close(out[0], 4);
  close(out[1], mu);
  // b_0 = (5 + 3 − 2μ)/(1 + 2), b_1 = (2 − μ)/(1 + 1), b_2 = 0; b_u = (4 − μ − b_1)/(2 + 1)
  const b0 = (8 - 2 * mu) / 3;
  const b1 = (2 - mu) / 2;
  const bu = (4 - mu - b1) / 3;
  b.userItemBias.predict(user, out);
  close(out[0], mu + bu + b0);
  close(out[1], mu + bu);
});

test('metrics pool every scored rating and clip predictions to [1, 5]', () => {
  const rater = { predict: (_u: UnseenUser, out: Float32Array) => out.set([4.4, -3]) };
  const m = evaluateUnseenExplicit(rater, [user]);
  // errors 0.4 and 0 (−3 clipped to 1)
  close(m.rmse, Math.sqrt(0.16 / 2));
  close(m.mae, 0.2);
  close(m.ratingAccuracy, 1);
});
